package hostpolicy

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// HostConfig is the politeness budget of one host.
type HostConfig struct {
	// Rate is the sustained request rate. Zero means "use the default";
	// rate.Inf means unpaced.
	Rate rate.Limit
	// Burst is how many requests may go at once after a quiet spell.
	Burst int
	// Concurrency is the ceiling of requests in flight; the adaptive limit
	// moves below it and never above.
	Concurrency int
}

// DefaultHosts returns the built-in budgets of the APIs whose limits are
// documented (DESIGN.md §8). A fresh map on each call.
func DefaultHosts() map[string]HostConfig {
	return map[string]HostConfig{
		"api.openalex.org":          {Rate: 10, Burst: 1, Concurrency: 4},
		"api.crossref.org":          {Rate: 10, Burst: 1, Concurrency: 3},
		"eutils.ncbi.nlm.nih.gov":   {Rate: 3, Burst: 1, Concurrency: 1},
		"export.arxiv.org":          {Rate: rate.Every(3 * time.Second), Burst: 1, Concurrency: 1},
		"web.archive.org":           {Rate: 0.4, Burst: 1, Concurrency: 1},
		"api.semanticscholar.org":   {Rate: 1, Burst: 1, Concurrency: 1},
		"api.unpaywall.org":         {Rate: 1, Burst: 1, Concurrency: 1},
		"www.ebi.ac.uk":             {Rate: 5, Burst: 1, Concurrency: 2},
		"www.ncbi.nlm.nih.gov":      {Rate: 3, Burst: 1, Concurrency: 1},
		"api.core.ac.uk":            {Rate: 1, Burst: 1, Concurrency: 1},
		"archive.org":               {Rate: 0.4, Burst: 1, Concurrency: 1},
		"timetravel.mementoweb.org": {Rate: 0.4, Burst: 1, Concurrency: 1},
	}
}

// Observer is told about politeness decisions, for metrics and logs. Its
// methods are called synchronously from request goroutines and must be
// fast and safe for concurrent use.
type Observer interface {
	// Wait reports a delay imposed on a request by pacing or Retry-After.
	Wait(host string, d time.Duration)
	// Retry reports a retry after a response status (0 for a transport
	// error).
	Retry(host string, status int)
	// Breaker reports a breaker state change.
	Breaker(host string, state BreakerState)
}

// PolicyConfig configures NewPolicy.
type PolicyConfig struct {
	// Default applies to hosts without their own entry. Defaults to 1/s,
	// burst 1, concurrency 1; zero fields of per-host entries are filled
	// from it.
	Default HostConfig
	// Hosts overrides per host (lower-case name, with ":port" only for a
	// non-default port). Entries are merged over DefaultHosts().
	Hosts map[string]HostConfig
	// RetryAfterCap is the longest Retry-After waited for in line; beyond
	// it the host is paused and its requests fail fast with rate-limited
	// carrying the RetryAfter. Defaults to 5m.
	RetryAfterCap time.Duration
	// MaxRetries is the number of retries after the first try, for
	// GET/HEAD only. Defaults to 3; negative means none.
	MaxRetries int
	// BackoffBase and BackoffMax shape the exponential backoff between
	// retries. Default to 500ms and 30s.
	BackoffBase, BackoffMax time.Duration
	// BreakerThreshold is the number of consecutive failures (transport
	// errors, 5xx) that open a host's breaker. Defaults to 5.
	BreakerThreshold int
	// BreakerCooldown is how long an open breaker fails fast before one
	// half-open probe. Defaults to 30s.
	BreakerCooldown time.Duration
	// RobotsTTL is how long a robots.txt verdict is cached, including the
	// disallow-all after a 5xx or an unreachable host. Defaults to 24h.
	RobotsTTL time.Duration
	// Clock tells the time for pauses, Retry-After dates, pacing and the
	// breaker. Defaults to the system clock. Waits are real timers, so a
	// stub clock suits only tests whose hosts are unpaced (rate.Inf).
	Clock fulltext.Clock
	// Rand returns a number in [0, 1) for backoff jitter. Defaults to
	// math/rand/v2.Float64. Must be safe for concurrent use.
	Rand func() float64
	// Observer, if set, is told about waits, retries and breaker changes.
	Observer Observer
}

// Policy holds the per-host politeness state of one process and wraps
// transports with it. A Policy is safe for concurrent use by multiple
// goroutines; every RoundTripper it wraps shares its per-host state.
type Policy struct {
	def              HostConfig
	hostCfg          map[string]HostConfig
	retryAfterCap    time.Duration
	maxRetries       int
	backoffBase      time.Duration
	backoffMax       time.Duration
	breakerThreshold int
	breakerCooldown  time.Duration
	robotsTTL        time.Duration
	clock            fulltext.Clock
	rand             func() float64
	obs              Observer

	mu    sync.Mutex
	hosts map[string]*host
	share atomic.Int64 // live workers sharing each host's budget (SetFleetShare)
}

// NewPolicy returns a Policy for cfg with defaults filled in.
func NewPolicy(cfg PolicyConfig) *Policy {
	def := HostConfig{
		Rate:        cmp.Or(cfg.Default.Rate, 1),
		Burst:       cmp.Or(cfg.Default.Burst, 1),
		Concurrency: cmp.Or(cfg.Default.Concurrency, 1),
	}
	hosts := DefaultHosts()
	for k, v := range cfg.Hosts {
		hosts[normalizeHost(k)] = v
	}
	for k, v := range hosts {
		hosts[k] = HostConfig{
			Rate:        cmp.Or(v.Rate, def.Rate),
			Burst:       cmp.Or(v.Burst, def.Burst),
			Concurrency: cmp.Or(v.Concurrency, def.Concurrency),
		}
	}
	maxRetries := cmp.Or(cfg.MaxRetries, 3)
	if maxRetries < 0 {
		maxRetries = 0
	}
	p := &Policy{
		def:              def,
		hostCfg:          hosts,
		retryAfterCap:    cmp.Or(cfg.RetryAfterCap, 5*time.Minute),
		maxRetries:       maxRetries,
		backoffBase:      cmp.Or(cfg.BackoffBase, 500*time.Millisecond),
		backoffMax:       cmp.Or(cfg.BackoffMax, 30*time.Second),
		breakerThreshold: cmp.Or(cfg.BreakerThreshold, 5),
		breakerCooldown:  cmp.Or(cfg.BreakerCooldown, 30*time.Second),
		robotsTTL:        cmp.Or(cfg.RobotsTTL, 24*time.Hour),
		clock:            cfg.Clock,
		rand:             cfg.Rand,
		obs:              cfg.Observer,
		hosts:            map[string]*host{},
	}
	if p.clock == nil {
		p.clock = fulltext.SystemClock{}
	}
	if p.rand == nil {
		p.rand = rand.Float64
	}
	if p.obs == nil {
		p.obs = nopObserver{}
	}
	return p
}

type nopObserver struct{}

func (nopObserver) Wait(string, time.Duration)   {}
func (nopObserver) Retry(string, int)            {}
func (nopObserver) Breaker(string, BreakerState) {}

// host returns the state of key, creating it on first use.
func (p *Policy) host(key string) *host {
	p.mu.Lock()
	defer p.mu.Unlock()
	h, ok := p.hosts[key]
	if !ok {
		cfg, ok := p.hostCfg[key]
		if !ok {
			cfg = p.def
		}
		h = newHost(key, cfg, p.breakerThreshold, p.breakerCooldown)
		p.hosts[key] = h
		if p.share.Load() > 1 {
			p.repace(h)
		}
	}
	return h
}

// Pause makes every request to host fail fast with rate-limited until the
// given time (oafetch hosts pause). Idempotent.
func (p *Policy) Pause(host string, until time.Time) {
	h := p.host(normalizeHost(host))
	h.mu.Lock()
	h.pausedUntil = until
	h.mu.Unlock()
}

// Resume lifts a pause and any pending Retry-After wait of host.
// Idempotent.
func (p *Policy) Resume(host string) {
	h := p.host(normalizeHost(host))
	h.mu.Lock()
	h.pausedUntil, h.holdUntil = time.Time{}, time.Time{}
	h.mu.Unlock()
}

// Avoid makes every publisher request to host — contexts marked
// WithRobots: landing pages and full texts, redirect hops included — fail
// fast with code, without a request, for the rest of the process's life.
// API calls by sources are not affected. The cascade calls it for a host
// that served a challenge wall, so that no work knocks on it again, not
// even through a doi.org redirect. Idempotent; the first reason is kept.
func (p *Policy) Avoid(host string, code fulltext.Code, reason string) {
	h := p.host(normalizeHost(host))
	h.mu.Lock()
	if h.avoid == nil {
		h.avoid = &fulltext.Error{Code: code, Err: errors.New(reason)}
	}
	h.mu.Unlock()
}

// BreakerOpen reports whether host's breaker currently fails requests
// fast, so the cascade can skip a source without trying it.
func (p *Policy) BreakerOpen(host string) bool {
	p.mu.Lock()
	h, ok := p.hosts[normalizeHost(host)]
	p.mu.Unlock()
	if !ok {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.br.state == BreakerOpen && p.clock.Now().Before(h.br.openedAt.Add(h.br.cooldown))
}

// HostState is a snapshot of one host's politeness state (oafetch hosts).
type HostState struct {
	Host                string
	Rate                rate.Limit // current pacing (a Crawl-delay may have slowed it)
	Burst               int
	Concurrency         int // configured ceiling
	Limit               int // current adaptive limit
	InFlight            int
	Breaker             BreakerState
	ConsecutiveFailures int
	LastRetryAfter      time.Duration
	PausedUntil         time.Time // zero when not paused
	Avoided             string    // the code publisher requests fail with (Avoid), or ""
	Robots              string    // "", "rules", "allow-all", "disallow-all"
}

// Hosts returns a snapshot of every host seen so far, sorted by name.
func (p *Policy) Hosts() []HostState {
	p.mu.Lock()
	hs := make([]*host, 0, len(p.hosts))
	for _, h := range p.hosts {
		hs = append(hs, h)
	}
	p.mu.Unlock()
	now := p.clock.Now()
	out := make([]HostState, 0, len(hs))
	for _, h := range hs {
		h.mu.Lock()
		s := HostState{
			Host: h.key, Rate: h.lim.Limit(), Burst: h.cfg.Burst, Concurrency: h.cfg.Concurrency,
			Limit: int(h.limit), InFlight: h.inFlight, Breaker: h.br.state,
			ConsecutiveFailures: h.br.failures, LastRetryAfter: h.lastRetryAfter,
		}
		if now.Before(h.pausedUntil) {
			s.PausedUntil = h.pausedUntil
		}
		if h.avoid != nil {
			s.Avoided = string(h.avoid.Code)
		}
		h.mu.Unlock()
		s.Robots = h.robots.summary(now)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b HostState) int { return cmp.Compare(a.Host, b.Host) })
	return out
}
