package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Fetch downloads candidate c for lease l, step by step:
//
//  1. follow redirects by hand (relative Locations resolved, a seen-set
//     for loops → redirect-loop, more than MaxHops → max-hops); the
//     candidate's Referer goes with the first request only, and no request
//     carries credentials;
//  2. map a non-2xx final status to its code (404/410 not-found, 401/403
//     blocked-forbidden, 429 rate-limited with RetryAfter, 5xx
//     server-error) and call hooks.Headers;
//  3. sniff the first bytes: an HTML or text page is returned in
//     Fetched.Page (its Content-Type must not claim a PDF: that is
//     wrong-type); a PDF or XML body is streamed;
//  4. call hooks.Stream, then stream the body to a temp artifact while
//     hashing it (each byte once) and keeping its last TailSize bytes;
//  5. validate: Content-Length kept (shorter → truncated), size within
//     MaxBodyBytes (too-large) and at least MinPDFBytes for a PDF
//     (too-small), PDF structure (ValidatePDF), JATS (ValidateJATS,
//     parsed while streaming).
//
// No byte for StallTimeout → timeout; ctx's deadline → timeout; a failed
// connection → network-error. When ctx is cancelled Fetch returns an error
// wrapping context.Canceled (not an outcome: the caller stopped it). On
// every error the temp artifact is aborted.
func (d *Downloader) Fetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, hooks Hooks) (*Fetched, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := newWatchdog(d.cfg.StallTimeout, cancel)
	defer wd.stop()

	resp, hops, err := d.follow(ctx, c)
	if err != nil {
		return nil, d.classify(ctx, err)
	}
	defer resp.Body.Close()
	wd.kick()
	f := &Fetched{FinalURL: hops[len(hops)-1], Status: resp.StatusCode, Header: resp.Header, Hops: hops, lease: l}
	if err := d.statusError(resp); err != nil {
		return nil, err
	}
	if hooks.Headers != nil {
		if err := hooks.Headers(resp.StatusCode, resp.Header); err != nil {
			return nil, err
		}
	}
	if resp.ContentLength > d.cfg.MaxBodyBytes {
		return nil, fulltext.Errorf(fulltext.CodeTooLarge, "download: %s: content-length %d over %d", f.FinalURL, resp.ContentLength, d.cfg.MaxBodyBytes)
	}
	body := &meter{r: resp.Body, wd: wd, max: d.cfg.MaxBodyBytes}
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(body, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, d.classify(ctx, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && body.err != nil {
		return nil, d.classify(ctx, body.err)
	}
	if n == 0 {
		if resp.ContentLength > 0 {
			return nil, fulltext.Errorf(fulltext.CodeTruncated, "download: %s: 0 of %d bytes", f.FinalURL, resp.ContentLength)
		}
		return nil, fulltext.Errorf(fulltext.CodeEmptyBody, "download: %s: empty body", f.FinalURL)
	}
	declared := ParseContentType(resp.Header.Get("Content-Type"))
	f.Kind = SniffKind(head, declared)
	switch f.Kind {
	case fulltext.KindPDF, fulltext.KindXML:
		if err := d.stream(ctx, f, l, head, body, resp.ContentLength, hooks); err != nil {
			return nil, err
		}
		return f, nil
	case fulltext.KindHTML:
		if !isPDFType(declared) {
			if err := d.page(ctx, f, head, body, resp.ContentLength); err != nil {
				return nil, err
			}
			return f, nil
		}
	}
	if looksMarkup(head) {
		return nil, fulltext.Errorf(fulltext.CodeWrongType, "download: %s: html or javascript served as %q", f.FinalURL, declared)
	}
	return nil, fulltext.Errorf(fulltext.CodeWrongType, "download: %s: not a pdf, xml or html document (%q)", f.FinalURL, declared)
}

// follow sends the requests of one redirect chain and returns the final
// response, its body unread, and the URLs requested.
func (d *Downloader) follow(ctx context.Context, c fulltext.Candidate) (*http.Response, []string, error) {
	cur, err := url.Parse(c.URL)
	if err != nil || (cur.Scheme != "http" && cur.Scheme != "https") || cur.Host == "" {
		return nil, nil, fulltext.Errorf(fulltext.CodeResolverError, "download: bad candidate url %q", c.URL)
	}
	seen := map[string]bool{}
	var hops []string
	for {
		cur.Fragment, cur.RawFragment = "", ""
		u := cur.String()
		if seen[u] {
			return nil, hops, fulltext.Errorf(fulltext.CodeRedirectLoop, "download: redirect loop back to %s", u)
		}
		seen[u] = true
		hops = append(hops, u)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, hops, fulltext.Errorf(fulltext.CodeResolverError, "download: %w", err)
		}
		req.Header.Set("Accept", accept(c.Kind))
		if d.cfg.UserAgent != "" {
			req.Header.Set("User-Agent", d.cfg.UserAgent)
		}
		if len(hops) == 1 && c.Referer != "" {
			req.Header.Set("Referer", c.Referer)
		}
		resp, err := d.client.Do(req)
		if err != nil {
			return nil, hops, err
		}
		if !isRedirect(resp.StatusCode) {
			return resp, hops, nil
		}
		loc := resp.Header.Get("Location")
		drain(resp.Body)
		if loc == "" {
			return nil, hops, fulltext.Errorf(fulltext.CodeServerError, "download: %s: http %d without Location", u, resp.StatusCode)
		}
		next, err := cur.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			return nil, hops, fulltext.Errorf(fulltext.CodeNotFound, "download: %s: bad redirect to %q", u, loc)
		}
		if len(hops) > d.cfg.MaxHops {
			return nil, hops, fulltext.Errorf(fulltext.CodeMaxHops, "download: more than %d redirects from %s", d.cfg.MaxHops, hops[0])
		}
		cur = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// drain reads a little of a body we do not want so the connection can be
// reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

func accept(k fulltext.Kind) string {
	switch k {
	case fulltext.KindXML:
		return "application/xml,text/xml;q=0.9,*/*;q=0.5"
	case fulltext.KindHTML:
		return "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
	}
	return "application/pdf,*/*;q=0.5"
}

// statusError maps a final non-success status to its outcome code.
func (d *Downloader) statusError(resp *http.Response) error {
	s := resp.StatusCode
	if s >= 200 && s < 300 && s != http.StatusNoContent && s != http.StatusPartialContent {
		return nil
	}
	drain(resp.Body)
	u := resp.Request.URL.String()
	e := &fulltext.Error{Err: fmt.Errorf("download: %s: http %d", u, s)}
	switch {
	case s == http.StatusNoContent:
		e.Code = fulltext.CodeEmptyBody
	case s == http.StatusNotFound, s == http.StatusGone:
		e.Code = fulltext.CodeNotFound
	case s == http.StatusUnauthorized, s == http.StatusForbidden,
		s == http.StatusProxyAuthRequired, s == http.StatusUnavailableForLegalReasons:
		e.Code = fulltext.CodeBlockedForbidden
	case s == http.StatusTooManyRequests:
		e.Code = fulltext.CodeRateLimited
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), d.cfg.Clock.Now())
	case s == http.StatusRequestTimeout:
		e.Code = fulltext.CodeTimeout
	case s >= 500:
		e.Code = fulltext.CodeServerError
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), d.cfg.Clock.Now())
	case s >= 400:
		e.Code = fulltext.CodeNotFound
	default: // 1xx, 206 we did not ask for, 3xx that is no redirect
		e.Code = fulltext.CodeServerError
	}
	return e
}

// classify turns a transport or body error into an outcome error.
func (d *Downloader) classify(ctx context.Context, err error) error {
	var fe *fulltext.Error
	switch cause := context.Cause(ctx); {
	case errors.As(err, &fe):
		return err
	case errors.Is(cause, errStall):
		return &fulltext.Error{Code: fulltext.CodeTimeout, Err: fmt.Errorf("download: no byte for %v: %w", d.cfg.StallTimeout, err)}
	case errors.Is(cause, context.DeadlineExceeded):
		return &fulltext.Error{Code: fulltext.CodeTimeout, Err: fmt.Errorf("download: %w", cause)}
	case errors.Is(cause, context.Canceled):
		return fmt.Errorf("download: %w", cause)
	case errors.Is(err, errTooLarge):
		return &fulltext.Error{Code: fulltext.CodeTooLarge, Err: fmt.Errorf("download: body over %d bytes", d.cfg.MaxBodyBytes)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &fulltext.Error{Code: fulltext.CodeTruncated, Err: fmt.Errorf("download: %w", err)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &fulltext.Error{Code: fulltext.CodeTimeout, Err: fmt.Errorf("download: %w", err)}
	}
	return &fulltext.Error{Code: fulltext.CodeNetworkError, Err: fmt.Errorf("download: %w", err)}
}

var errTooLarge = errors.New("body too large")

// meter reads a body, counting bytes, kicking the stall watchdog on
// progress and failing with errTooLarge past max. It remembers its first
// error.
type meter struct {
	r   io.Reader
	wd  *watchdog
	max int64
	n   int64
	err error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if rest := m.max + 1 - m.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := m.r.Read(p)
	m.n += int64(n)
	if n > 0 {
		m.wd.kick()
	}
	if m.n > m.max {
		m.err = errTooLarge
		return n, m.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		m.err = err
	}
	return n, err
}

// page reads the rest of an HTML/text page into f.Page, up to MaxPageBytes.
func (d *Downloader) page(ctx context.Context, f *Fetched, head []byte, body *meter, contentLength int64) error {
	buf := append(make([]byte, 0, min(d.cfg.MaxPageBytes, max(contentLength, int64(len(head))*4))), head...)
	rest := d.cfg.MaxPageBytes - int64(len(buf))
	if rest > 0 {
		more, err := io.ReadAll(io.LimitReader(body, rest))
		if err != nil {
			return d.classify(ctx, err)
		}
		buf = append(buf, more...)
	}
	if int64(len(buf)) >= d.cfg.MaxPageBytes {
		var one [1]byte
		if n, _ := body.Read(one[:]); n > 0 {
			f.PageCut = true
		}
	}
	if !f.PageCut && contentLength >= 0 && int64(len(buf)) < contentLength {
		return fulltext.Errorf(fulltext.CodeTruncated, "download: %s: %d of %d bytes", f.FinalURL, len(buf), contentLength)
	}
	if int64(len(buf)) > d.cfg.MaxPageBytes {
		buf = buf[:d.cfg.MaxPageBytes]
		f.PageCut = true
	}
	sum := sha256.Sum256(buf)
	f.Page, f.SHA256, f.Bytes = buf, hex.EncodeToString(sum[:]), int64(len(buf))
	return nil
}
