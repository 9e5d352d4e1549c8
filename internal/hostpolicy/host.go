package hostpolicy

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// host is the politeness state of one host. Its mutex guards everything
// but the limiter (which has its own).
type host struct {
	key string
	cfg HostConfig
	lim *rate.Limiter

	mu             sync.Mutex
	limit          float64       // adaptive concurrency limit, 1 ≤ limit ≤ cfg.Concurrency
	ewma           time.Duration // moving average of time to response headers
	samples        int
	inFlight       int
	changed        chan struct{} // closed and replaced whenever a slot frees or the limit grows
	br             breaker
	lastRetryAfter time.Duration
	crawl          rate.Limit      // robots.txt Crawl-delay pacing, 0 when none (see repace)
	holdUntil      time.Time       // Retry-After within the cap: wait until then
	pausedUntil    time.Time       // operator pause or Retry-After beyond the cap: fail fast
	avoid          *fulltext.Error // publisher requests fail with it (Avoid), for the process's life
	robots         *robotsEntry
}

func newHost(key string, cfg HostConfig, threshold int, cooldown time.Duration) *host {
	return &host{
		key:     key,
		cfg:     cfg,
		lim:     rate.NewLimiter(cfg.Rate, cfg.Burst),
		limit:   float64(cfg.Concurrency),
		changed: make(chan struct{}),
		br:      breaker{threshold: threshold, cooldown: cooldown, state: BreakerClosed},
		robots:  &robotsEntry{sem: make(chan struct{}, 1)},
	}
}

// acquire takes a concurrency slot, waiting while the host is at its
// adaptive limit.
func (h *host) acquire(ctx context.Context) error {
	for {
		h.mu.Lock()
		if h.inFlight < int(h.limit) {
			h.inFlight++
			h.mu.Unlock()
			return nil
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (h *host) release() {
	h.mu.Lock()
	h.inFlight--
	h.wakeLocked()
	h.mu.Unlock()
}

func (h *host) wakeLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// throttled halves the adaptive limit (multiplicative decrease), never
// below 1.
func (h *host) throttled() {
	h.mu.Lock()
	h.limit = max(1, h.limit/2)
	h.mu.Unlock()
}

// Latency as a congestion signal: once a host has latencyWarmup samples,
// a response slower than slowFactor times its moving average (and slower
// than minSlow, so fast hosts' jitter does not count) shrinks the limit
// by a quarter instead of growing it.
const (
	latencyWarmup = 8
	slowFactor    = 4
	minSlow       = time.Second
)

// succeeded records a good response that took lat to its headers. It grows
// the adaptive limit by about one per limit's worth of successes (additive
// increase, never above the configured ceiling), or shrinks it when lat
// says the host is struggling.
func (h *host) succeeded(lat time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	slow := h.samples >= latencyWarmup && lat > slowFactor*h.ewma && lat > minSlow
	if h.samples == 0 {
		h.ewma = lat
	} else {
		h.ewma = (4*h.ewma + lat) / 5
	}
	h.samples++
	if slow {
		h.limit = max(1, h.limit*3/4)
		return
	}
	before := int(h.limit)
	h.limit = min(float64(h.cfg.Concurrency), h.limit+1/h.limit)
	if int(h.limit) > before {
		h.wakeLocked()
	}
}

// slotBody releases the host's concurrency slot when the response body is
// read to the end or closed, whichever comes first.
type slotBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *slotBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// hostKey names the host a request counts against: the lower-case host
// name, with the port only when it is not the scheme's default.
func hostKey(u *url.URL) string {
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		return h
	}
	return net.JoinHostPort(h, port)
}

// normalizeHost turns an operator's or config's host name into a key.
func normalizeHost(s string) string {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if u, err := url.Parse("x://" + s); err == nil && u.Host == s {
		return hostKey(u)
	}
	return s
}
