package hostpolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Wrap returns a RoundTripper that applies the policy to every request
// before handing it to next: robots.txt (for contexts marked WithRobots),
// pause, breaker, adaptive concurrency, pacing, Retry-After, retries.
//
// Errors carry a fulltext code: skip-robots, skip-breaker, rate-limited
// (paused host; RetryAfter set), timeout or network-error (transport
// failures after retries), or the dialer's skip-blocklist. A response is
// returned as is once retries are spent, even a 429 or 5xx. The response
// body holds a concurrency slot until it is read to EOF or closed, so
// callers must close it. Safe for concurrent use.
func (p *Policy) Wrap(next http.RoundTripper) http.RoundTripper {
	return &policyTransport{p: p, next: next}
}

type policyTransport struct {
	p    *Policy
	next http.RoundTripper
}

func (t *policyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.p.host(hostKey(req.URL))
	if robotsWanted(req.Context()) {
		h.mu.Lock()
		avoid := h.avoid
		h.mu.Unlock()
		if avoid != nil {
			closeReqBody(req)
			return nil, &fulltext.Error{Code: avoid.Code, Err: fmt.Errorf("hostpolicy: %s: %w", h.key, avoid.Err)}
		}
		if err := t.p.checkRobots(req, h, t.next); err != nil {
			closeReqBody(req)
			return nil, err
		}
	}
	return t.p.send(req, h, t.next)
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// send runs the try-and-retry loop for one request to h.
func (p *Policy) send(req *http.Request, h *host, next http.RoundTripper) (*http.Response, error) {
	ctx := req.Context()
	idempotent := req.Method == "" || req.Method == http.MethodGet || req.Method == http.MethodHead
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for n := 0; ; n++ {
		if n > 0 && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("hostpolicy: %s: rewind body: %w", h.key, err)
			}
			req = req.Clone(ctx)
			req.Body = body
		}
		resp, err := p.try(req, h, next)
		canRetry := idempotent && rewindable && n < p.maxRetries
		var delay time.Duration
		switch {
		case err != nil:
			var fe *fulltext.Error
			if errors.As(err, &fe) || ctx.Err() != nil {
				return nil, err
			}
			if !canRetry || !retryableErr(err) {
				return nil, &fulltext.Error{Code: errCode(err), Err: fmt.Errorf("hostpolicy: %s: %w", h.key, err)}
			}
			delay = backoff(n, p.backoffBase, p.backoffMax, p.rand)
			p.obs.Retry(h.key, 0)
		case retryableStatus(resp.StatusCode):
			ra, hasRA := ParseRetryAfter(resp.Header.Get("Retry-After"), p.clock.Now())
			if throttleStatus(resp.StatusCode) && hasRA && ra > p.retryAfterCap {
				drain(resp)
				return nil, &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: ra,
					Err: fmt.Errorf("hostpolicy: %s: Retry-After %s beyond the %s cap; host paused", h.key, ra, p.retryAfterCap)}
			}
			if !canRetry {
				return resp, nil
			}
			if !(throttleStatus(resp.StatusCode) && hasRA) {
				delay = backoff(n, p.backoffBase, p.backoffMax, p.rand)
			} // else the host's hold makes the next try wait
			p.obs.Retry(h.key, resp.StatusCode)
			drain(resp)
		default:
			return resp, nil
		}
		if err := p.sleep(ctx, h.key, delay); err != nil {
			return nil, err
		}
	}
}

// try sends one request through the host's gates and records the answer.
// A request stopped at a gate has its body closed, as next would have.
func (p *Policy) try(req *http.Request, h *host, next http.RoundTripper) (*http.Response, error) {
	ctx := req.Context()
	if err := p.checkPause(h); err != nil {
		closeReqBody(req)
		return nil, err
	}
	h.mu.Lock()
	ok, probe := h.br.allow(p.clock.Now())
	h.mu.Unlock()
	if !ok {
		closeReqBody(req)
		return nil, &fulltext.Error{Code: fulltext.CodeSkipBreaker, Err: fmt.Errorf("hostpolicy: %s: circuit breaker open", h.key)}
	}
	if probe {
		p.obs.Breaker(h.key, BreakerHalfOpen)
	}
	if err := h.acquire(ctx); err != nil {
		closeReqBody(req)
		p.recordBreaker(h, neutral, probe)
		return nil, err
	}
	if err := p.pace(ctx, h); err != nil {
		closeReqBody(req)
		h.release()
		p.recordBreaker(h, neutral, probe)
		return nil, err
	}
	start := p.clock.Now()
	resp, err := next.RoundTrip(req)
	if err != nil {
		h.release()
		v := failed
		var fe *fulltext.Error
		if ctx.Err() != nil || errors.As(err, &fe) {
			v = neutral
		}
		p.recordBreaker(h, v, probe)
		return nil, err
	}
	p.observe(h, resp, probe, p.clock.Now().Sub(start))
	if resp.Body == nil || resp.Body == http.NoBody {
		h.release()
	} else {
		resp.Body = &slotBody{ReadCloser: resp.Body, release: h.release}
	}
	return resp, nil
}

// observe updates breaker, adaptive limit and Retry-After state from a
// response whose headers took lat.
func (p *Policy) observe(h *host, resp *http.Response, probe bool, lat time.Duration) {
	code := resp.StatusCode
	switch {
	case throttleStatus(code):
		h.throttled()
		now := p.clock.Now()
		if ra, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			h.mu.Lock()
			h.lastRetryAfter = ra
			if ra > p.retryAfterCap {
				h.pausedUntil = later(h.pausedUntil, now.Add(ra))
			} else {
				h.holdUntil = later(h.holdUntil, now.Add(ra))
			}
			h.mu.Unlock()
		}
		v := neutral
		if code == http.StatusServiceUnavailable {
			v = failed
		}
		p.recordBreaker(h, v, probe)
	case retryableStatus(code):
		p.recordBreaker(h, failed, probe)
	default:
		h.succeeded(lat)
		p.recordBreaker(h, healthy, probe)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (p *Policy) recordBreaker(h *host, v verdict, probe bool) {
	h.mu.Lock()
	changed := h.br.record(v, probe, p.clock.Now())
	state := h.br.state
	h.mu.Unlock()
	if changed {
		p.obs.Breaker(h.key, state)
	}
}

// checkPause fails fast while h is paused.
func (p *Policy) checkPause(h *host) error {
	now := p.clock.Now()
	h.mu.Lock()
	until := h.pausedUntil
	h.mu.Unlock()
	if now.Before(until) {
		return &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: until.Sub(now),
			Err: fmt.Errorf("hostpolicy: %s: paused until %s", h.key, until.UTC().Format(time.RFC3339))}
	}
	return nil
}

// pace waits for a Retry-After hold to pass and for a token of the host's
// rate, holding the concurrency slot so that no request is sent between
// its token and the wire.
func (p *Policy) pace(ctx context.Context, h *host) error {
	for {
		if err := p.checkPause(h); err != nil {
			return err
		}
		now := p.clock.Now()
		h.mu.Lock()
		hold := h.holdUntil.Sub(now)
		h.mu.Unlock()
		if hold > 0 {
			if err := p.sleep(ctx, h.key, hold); err != nil {
				return err
			}
			continue
		}
		r := h.lim.ReserveN(now, 1)
		if !r.OK() {
			return fmt.Errorf("hostpolicy: %s: burst 0 admits no request", h.key)
		}
		if d := r.DelayFrom(now); d > 0 {
			if err := p.sleep(ctx, h.key, d); err != nil {
				r.CancelAt(p.clock.Now())
				return err
			}
		}
		// A Retry-After may have arrived while we waited for the token.
		h.mu.Lock()
		held := p.clock.Now().Before(h.holdUntil)
		h.mu.Unlock()
		if !held {
			return nil
		}
	}
}

// sleep waits d or until ctx ends.
func (p *Policy) sleep(ctx context.Context, key string, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	p.obs.Wait(key, d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
