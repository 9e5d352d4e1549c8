package hostpolicy

import "time"

// BreakerState is the state of a host's circuit breaker.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"    // requests flow
	BreakerOpen     BreakerState = "open"      // requests fail fast with skip-breaker
	BreakerHalfOpen BreakerState = "half-open" // one probe request is let through
)

// breaker is a consecutive-failure circuit breaker. It is not safe for
// concurrent use; the host's mutex guards it.
type breaker struct {
	threshold int
	cooldown  time.Duration

	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
}

// allow reports whether a request may go now; probe is true for the single
// request let through a half-open breaker, whose verdict decides the state.
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	switch b.state {
	case BreakerOpen:
		if now.Before(b.openedAt.Add(b.cooldown)) {
			return false, false
		}
		b.state = BreakerHalfOpen
		fallthrough
	case BreakerHalfOpen:
		if b.probing {
			return false, false
		}
		b.probing = true
		return true, true
	}
	return true, false
}

// verdict is what one attempt says about the host's health.
type verdict int

const (
	neutral verdict = iota // says nothing (cancelled, refused by the guard, throttled)
	healthy
	failed
)

// record applies an attempt's verdict and reports whether the state
// changed.
func (b *breaker) record(v verdict, probe bool, now time.Time) (changed bool) {
	before := b.state
	if probe {
		b.probing = false
	}
	switch v {
	case healthy:
		b.failures = 0
		if probe || b.state == BreakerClosed {
			b.state = BreakerClosed
		}
	case failed:
		b.failures++
		if (probe && b.state == BreakerHalfOpen) || (b.state == BreakerClosed && b.failures >= b.threshold) {
			b.state = BreakerOpen
			b.openedAt = now
		}
	}
	return b.state != before
}
