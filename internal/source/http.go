package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// maxBody caps an API response read into memory. No API answer a source
// reads is anywhere near it; a bigger body is a broken upstream.
const maxBody = 16 << 20

// caller sends a source's API requests and maps transport failures and
// statuses to *fulltext.Error. Safe for concurrent use (it holds no state
// beyond its configuration).
type caller struct {
	name string
	deps Deps
	key  string
}

// response is an API answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
	url    string
}

// fetch sends one request and reads the whole body. Only transport failures
// are errors here; statuses are the caller's to judge (see statusError).
func (c *caller) fetch(ctx context.Context, method, rawURL string, header http.Header, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "%s: build request: %v", c.name, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.deps.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.deps.Client.Do(req)
	if err != nil {
		return nil, c.transportError("request", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, c.transportError("read body", err)
	}
	if len(data) > maxBody {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "%s: response larger than %d bytes", c.name, maxBody)
	}
	if c.deps.RateLimit != nil {
		if rl, ok := ParseRateLimit(resp.Header, c.deps.Clock.Now()); ok {
			c.deps.RateLimit(c.name, rl)
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data, url: resp.Request.URL.String()}, nil
}

// transportError classifies a failure to get a response: errors that already
// carry a code (from the RoundTripper wrappers: robots, breaker, paused host)
// keep it; timeouts become timeout; the rest network-error.
func (c *caller) transportError(verb string, err error) error {
	var fe *fulltext.Error
	if errors.As(err, &fe) {
		return &fulltext.Error{Code: fe.Code, RetryAfter: fe.RetryAfter, Err: fmt.Errorf("%s: %s: %w", c.name, verb, err)}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &fulltext.Error{Code: fulltext.CodeTimeout, Err: fmt.Errorf("%s: %s: %w", c.name, verb, err)}
	}
	return &fulltext.Error{Code: fulltext.CodeNetworkError, Err: fmt.Errorf("%s: %s: %w", c.name, verb, err)}
}

// statusError maps a non-2xx status to its code: 404/410 not-found, 429
// rate-limited with Retry-After, 5xx server-error, anything else
// resolver-error. It returns nil for 2xx.
func (c *caller) statusError(r *response) error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	detail := fmt.Errorf("%s: http %d: %s", c.name, r.status, snippet(r.body))
	switch {
	case r.status == http.StatusNotFound || r.status == http.StatusGone:
		return &fulltext.Error{Code: fulltext.CodeNotFound, Err: detail}
	case r.status == http.StatusTooManyRequests:
		return &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: retryAfter(r.header, c.deps.Clock.Now()), Err: detail}
	case r.status >= 500:
		return &fulltext.Error{Code: fulltext.CodeServerError, RetryAfter: retryAfter(r.header, c.deps.Clock.Now()), Err: detail}
	}
	return &fulltext.Error{Code: fulltext.CodeResolverError, Err: detail}
}

// getJSON GETs rawURL, maps a non-2xx status with statusError and decodes a
// 2xx body into v (a decode failure is resolver-error).
func (c *caller) getJSON(ctx context.Context, rawURL string, header http.Header, v any) error {
	r, err := c.fetch(ctx, http.MethodGet, rawURL, header, nil)
	if err != nil {
		return err
	}
	if err := c.statusError(r); err != nil {
		return err
	}
	return c.decode(r, v)
}

// decode unmarshals a JSON body; failure is resolver-error.
func (c *caller) decode(r *response, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fulltext.Errorf(fulltext.CodeResolverError, "%s: decode %s: %v", c.name, r.url, err)
	}
	return nil
}

// retryAfter parses a Retry-After header (delta seconds or HTTP date,
// relative to now); 0 when absent, unparsable or in the past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		const maxSeconds = int64(1 << 32)
		return time.Duration(min(n, maxSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// snippet is a short printable excerpt of a body for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// escapeDOIPath escapes a DOI for use in a URL path, keeping its slashes
// literal (doi.org, Unpaywall and OpenAlex split nothing on them once the
// id form is prefixed; the handle API refuses %2F).
func escapeDOIPath(doi string) string {
	segs := strings.Split(doi, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// wants reports whether kind is among the wanted formats.
func (c *caller) wants(kind fulltext.Kind) bool {
	return slices.Contains(c.deps.Formats, kind)
}

// base returns cfg's BaseURL or def.
func base(cfg Config, def string) string {
	if cfg.BaseURL != "" {
		return cfg.BaseURL
	}
	return def
}
