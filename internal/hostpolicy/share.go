package hostpolicy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Meta keys of the fleet-wide host state kept in the job store.
//
//   - PauseKeyPrefix+host holds an RFC 3339 time: the operator paused the
//     host until then (oafetch hosts pause). An empty value, or a time in
//     the past, means not paused (oafetch hosts resume writes "").
//   - StateKeyPrefix+host holds a SharedState JSON object: the latest
//     snapshot of the host as one worker process saw it.
const (
	PauseKeyPrefix = "host-pause:"
	StateKeyPrefix = "host-state:"
)

// MetaStore is the part of fulltext.JobStore that carries fleet-wide host
// state.
type MetaStore interface {
	ListMeta(ctx context.Context, prefix string) (map[string]string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// SharedState is one host's politeness state as a worker publishes it
// under StateKeyPrefix+host (oafetch hosts reads it).
type SharedState struct {
	Host                string    `json:"host"`
	Owner               string    `json:"owner"`
	At                  time.Time `json:"at"`
	Rate                float64   `json:"rate"` // requests per second now (a Crawl-delay may have slowed it)
	Concurrency         int       `json:"concurrency"`
	Limit               int       `json:"limit"` // adaptive concurrency limit
	InFlight            int       `json:"in_flight"`
	Breaker             string    `json:"breaker"`
	ConsecutiveFailures int       `json:"consecutive_failures,omitempty"`
	LastRetryAfterMS    int64     `json:"last_retry_after_ms,omitempty"`
	PausedUntil         time.Time `json:"paused_until,omitzero"`
	ChallengeSeen       time.Time `json:"challenge_seen,omitzero"`
	Robots              string    `json:"robots,omitempty"`
}

// SyncConfig configures Policy.Sync.
type SyncConfig struct {
	// Store holds the pauses and receives the published states. Required.
	Store MetaStore
	// Owner names this process in the published states.
	Owner string
	// Interval is the time between two polls of the pauses, and the
	// shortest time between two publications of a host's state. Defaults
	// to 5s.
	Interval time.Duration
	// Challenges, if set, returns the hosts that served a challenge wall
	// and when (the cascade's challenged set), published with the state.
	Challenges func() map[string]time.Time
	// OnError, if set, is told about a failed poll; the next tick tries
	// again.
	OnError func(error)
}

// Syncer applies the fleet's host pauses to a Policy and publishes the
// Policy's host states, one round per SyncOnce. Not safe for concurrent
// use: one goroutine runs it (Run).
type Syncer struct {
	p   *Policy
	cfg SyncConfig
	// applied are the operator pauses this syncer set, by host key, so
	// that a cleared key resumes exactly those hosts.
	applied   map[string]time.Time
	published map[string]SharedState
}

// NewSyncer returns a Syncer of p.
func (p *Policy) NewSyncer(cfg SyncConfig) *Syncer {
	cfg.Interval = cmp.Or(cfg.Interval, 5*time.Second)
	return &Syncer{p: p, cfg: cfg, applied: map[string]time.Time{}, published: map[string]SharedState{}}
}

// Run calls SyncOnce every Interval until ctx is done; a failed round goes
// to OnError. Call SyncOnce once before the first request so that a pause
// set before the run holds from its start.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.SyncOnce(ctx); err != nil && ctx.Err() == nil && s.cfg.OnError != nil {
			s.cfg.OnError(err)
		}
	}
}

// SyncOnce reads the pause keys and pauses or resumes hosts accordingly,
// then publishes the state of every host whose snapshot changed.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	if err := s.applyPauses(ctx); err != nil {
		return err
	}
	if err := s.sharePauses(ctx); err != nil {
		return err
	}
	return s.publish(ctx)
}

// sharePauses writes the pauses this process's policy set by itself (a
// Retry-After beyond the cap) as pause keys, so that every worker of the
// fleet holds off the host, not only the one that was told; `oafetch hosts
// resume` lifts them like an operator's.
func (s *Syncer) sharePauses(ctx context.Context) error {
	for _, h := range s.p.Hosts() {
		if h.PausedUntil.IsZero() || !h.PausedUntil.After(s.applied[h.Host]) {
			continue
		}
		until := h.PausedUntil.UTC()
		if t := until.Truncate(time.Second); !t.Equal(until) {
			until = t.Add(time.Second) // RFC 3339 to the second, rounded up
		}
		if err := s.cfg.Store.SetMeta(ctx, PauseKeyPrefix+h.Host, until.Format(time.RFC3339)); err != nil {
			return fmt.Errorf("hostpolicy: share pause of %s: %w", h.Host, err)
		}
		s.applied[h.Host] = until
	}
	return nil
}

func (s *Syncer) applyPauses(ctx context.Context) error {
	kv, err := s.cfg.Store.ListMeta(ctx, PauseKeyPrefix)
	if err != nil {
		return fmt.Errorf("hostpolicy: read pauses: %w", err)
	}
	now := s.p.clock.Now()
	want := map[string]time.Time{}
	for k, v := range kv {
		until, ok := ParsePause(v)
		if !ok || !now.Before(until) {
			continue
		}
		host := HostKey(strings.TrimPrefix(k, PauseKeyPrefix))
		if until.After(want[host]) { // two spellings of one host: the later pause
			want[host] = until
		}
	}
	for host, until := range want {
		if !s.applied[host].Equal(until) {
			s.p.Pause(host, until)
		}
	}
	for host := range s.applied {
		if _, ok := want[host]; !ok {
			s.p.Resume(host)
		}
	}
	s.applied = want
	return nil
}

func (s *Syncer) publish(ctx context.Context) error {
	var challenges map[string]time.Time
	if s.cfg.Challenges != nil {
		challenges = s.cfg.Challenges()
	}
	now := s.p.clock.Now()
	states := map[string]SharedState{}
	for _, h := range s.p.Hosts() {
		st := SharedState{
			Host: h.Host, Owner: s.cfg.Owner, Rate: float64(h.Rate), Concurrency: h.Concurrency,
			Limit: h.Limit, InFlight: h.InFlight, Breaker: string(h.Breaker),
			ConsecutiveFailures: h.ConsecutiveFailures, LastRetryAfterMS: h.LastRetryAfter.Milliseconds(),
			PausedUntil: h.PausedUntil.UTC(), ChallengeSeen: challenges[h.Host].UTC(), Robots: h.Robots,
		}
		states[h.Host] = st
	}
	for host, at := range challenges {
		if _, ok := states[host]; !ok {
			states[host] = SharedState{Host: host, Owner: s.cfg.Owner, ChallengeSeen: at.UTC()}
		}
	}
	for _, host := range sortedKeys(states) {
		st := states[host]
		if prev, ok := s.published[host]; ok && prev == st {
			continue
		}
		pub := st
		pub.At = now.UTC()
		b, err := json.Marshal(pub)
		if err != nil {
			return fmt.Errorf("hostpolicy: publish %s: %w", host, err)
		}
		if err := s.cfg.Store.SetMeta(ctx, StateKeyPrefix+host, string(b)); err != nil {
			return fmt.Errorf("hostpolicy: publish %s: %w", host, err)
		}
		s.published[host] = st
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// ParsePause parses a pause key's value: an RFC 3339 time. Empty or
// malformed values are not pauses.
func ParsePause(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// HostKey normalises an operator's or config's host name ("Example.ORG."
// → "example.org") to the key the policy counts requests against.
func HostKey(s string) string { return normalizeHost(s) }

// Config returns the configured budget of host (its own entry, else the
// default).
func (p *Policy) Config(host string) HostConfig {
	if c, ok := p.hostCfg[normalizeHost(host)]; ok {
		return c
	}
	return p.def
}

// ConfiguredHosts returns the host keys with their own budget (built-in
// defaults and config), sorted.
func (p *Policy) ConfiguredHosts() []string { return sortedKeys(p.hostCfg) }
