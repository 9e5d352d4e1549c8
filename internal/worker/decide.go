package worker

import (
	"math/rand/v2"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/fulltext"
)

type cascadeResult = cascade.Result

// decide is the one switch from an attempt's code to the job's next state.
//
//   - retry codes (rate-limited, server-error, timeout, network-error,
//     truncated) and credits-exhausted: back to PLANNED after a backoff (or
//     the Retry-After the remote asked for), until MaxAttempts claims;
//     then FAILED with the same code.
//   - error codes (store-error, internal): FAILED, never disguised.
//   - everything else (absent, blocked, invalid, skip, budget): FAILED with
//     the code; `oafetch retry --code` re-plans them.
func (p *Pool) decide(j fulltext.Job, code fulltext.Code, detail string, retryAfter time.Duration) fulltext.Finish {
	f := fulltext.Finish{State: fulltext.StateFailed, Outcome: code.Outcome(), Code: code, Detail: detail}
	if !code.Retryable() {
		return f
	}
	if j.Attempts >= p.cfg.MaxAttempts {
		f.Detail = detail + " (attempts exhausted)"
		return f
	}
	f.State = fulltext.StatePlanned
	f.NotBefore = p.cfg.Clock.Now().Add(max(retryAfter, p.backoff(j.Attempts)))
	return f
}

// backoff is RetryBase × 2^(attempt-1), capped at RetryMax, with ±20 %
// jitter so that a fleet does not retry in step.
func (p *Pool) backoff(attempt int) time.Duration {
	d := p.cfg.RetryBase
	for i := 1; i < attempt && d < p.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, p.cfg.RetryMax)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}
