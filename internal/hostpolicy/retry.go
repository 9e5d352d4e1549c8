package hostpolicy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// maxRetryAfter bounds a parsed Retry-After so arithmetic on it cannot
// overflow; anything near it is far beyond any sensible cap anyway.
const maxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After header value, either delay-seconds
// or an HTTP-date, relative to now. A date in the past gives 0. ok is false
// for an empty or malformed value. The result is never negative and at
// most one year.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // digits only: a huge delay, not garbage
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfter:
		return maxRetryAfter, true
	}
	return d, true
}

// retryableStatus reports whether a response status is worth another try
// of an idempotent request: 429 and server errors other than the verdicts
// 501 Not Implemented and 505 HTTP Version Not Supported.
func retryableStatus(code int) bool {
	switch {
	case code == http.StatusTooManyRequests:
		return true
	case code == http.StatusNotImplemented || code == http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500 && code <= 599
}

// throttleStatus reports whether a status asks the client to slow down:
// it carries a Retry-After worth honouring and shrinks the adaptive limit.
func throttleStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// isTLSError reports a TLS handshake or verification failure, which a
// retry cannot fix.
func isTLSError(err error) bool {
	var (
		ve  *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &ve) || errors.As(err, &rhe) || errors.As(err, &ae) ||
		errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		strings.Contains(err.Error(), "tls: ")
}

// retryableErr reports whether a transport error is transient: timeouts,
// resets, refused connections and connections closed mid-response. Never
// TLS failures, guard refusals or a cancelled context (callers check the
// request's context first).
func retryableErr(err error) bool {
	// Not context.DeadlineExceeded: net/http's own timeouts match it. The
	// caller checks the request's context instead.
	if errors.Is(err, context.Canceled) {
		return false
	}
	var fe *fulltext.Error
	if errors.As(err, &fe) || isTLSError(err) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// errCode is the outcome code of a transport error that carries none.
func errCode(err error) fulltext.Code {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fulltext.CodeTimeout
	}
	return fulltext.CodeNetworkError
}

// backoff is the wait before retry number n (0 for the first retry):
// base·2ⁿ capped at max, with "equal jitter" (half fixed, half random) so
// that clients that failed together do not retry together.
func backoff(n int, base, max time.Duration, rnd func() float64) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// drain reads a little of an unwanted body so the connection can be
// reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}
