package download

import (
	"context"
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
//     parsed while streaming). A body longer than its Content-Length is
//     never seen past it (the transport stops there); the cut file then
//     fails validation (pdf-corrupt, wrong-type), so it is never stored.
//
// A body interrupted by a reset, a cut or a stall is resumed (up to 5
// times) with Range and If-Range when the response had a length, no
// content coding and a validator (strong ETag or Last-Modified): the bytes
// already hashed are kept. A server that answers with the whole file
// (Range ignored, or the file changed) is read again from byte zero, once.
//
// Across attempts (keep.go): when the store is a fulltext.ResumableStore,
// a body that still fails (truncated, network-error, timeout) is kept under
// (lease job, candidate URL) instead of aborted, and the next Fetch of that
// job and URL asks for the rest with Range + If-Range, re-reading the kept
// prefix once so that the SHA-256 and the validation cover the whole file.
//
// Across crashes (checkpoint.go): a resumable body over
// MinCheckpointBytes streaming into a temp that is a fulltext.Checkpointer
// is checkpointed every CheckpointBytes (or CheckpointInterval), so that
// a process killed mid-body leaves a prefix the reconciler, or this job's
// next claim (Fetch with a higher epoch), turns into a kept prefix. A body
// over MinCheckpointBytes stopped by ctx is kept too.
//
// No byte for StallTimeout → timeout; ctx's deadline → timeout; a failed
// connection → network-error. When ctx is cancelled Fetch returns an error
// wrapping context.Canceled (not an outcome: the caller stopped it). On
// every error the temp artifact is aborted, unless it is kept for a later
// attempt as said above.
func (d *Downloader) Fetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, hooks Hooks) (*Fetched, error) {
	return d.fetch(ctx, l, c, Validators{}, hooks)
}

// Validators identify the copy of a candidate already stored, from the
// response it came in (fulltext.Result.ETag, LastMod).
type Validators struct {
	ETag         string
	LastModified string
}

// Refetch is Fetch with a conditional request: If-None-Match and
// If-Modified-Since are sent from v (on every hop of a redirect chain).
// When the server answers 304 Not Modified, Refetch returns a Fetched with
// NotModified set, no body and no temp (the caller records ok-existing);
// any other answer is handled exactly as by Fetch.
func (d *Downloader) Refetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, v Validators, hooks Hooks) (*Fetched, error) {
	return d.fetch(ctx, l, c, v, hooks)
}

func (d *Downloader) fetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, v Validators, hooks Hooks) (*Fetched, error) {
	r := &run{d: d, parent: ctx, l: l, hooks: hooks, key: fulltext.ResumeKey{JobID: l.JobID, URL: c.URL}}
	r.x = d.newXfer(ctx)
	defer func() { r.x.close() }()
	if v == (Validators{}) {
		r.adoptKept()
	}
	defer r.closeAdopted()

	hops, err := d.follow(r.x, c, v, r.rangeInfo())
	if err == nil && r.adopted != nil {
		hops, err = r.checkAdopted(c, hops)
	}
	if err != nil {
		return nil, d.classify(r.x.ctx, err)
	}
	resp := r.x.resp
	r.f = &Fetched{FinalURL: hops[len(hops)-1], Status: resp.StatusCode, Header: resp.Header, Hops: hops, lease: l}
	if resp.StatusCode == http.StatusNotModified && v != (Validators{}) {
		r.f.NotModified = true
		return r.f, nil
	}
	if isWall(resp) {
		// The body, not the status alone, is the verdict: a refusal with an
		// HTML body comes back as a page for the landing analysis to
		// classify (challenge, login, paywall, plain forbidden).
		head := make([]byte, HeadSize)
		n, _ := io.ReadFull(resp.Body, head)
		r.f.Kind = fulltext.KindHTML
		if err := r.page(head[:n], &meter{r: resp.Body, wd: r.x.wd, max: d.cfg.MaxPageBytes + 1}, -1); err == nil && n > 0 {
			return r.f, nil
		}
	}
	if !r.resumed {
		if err := d.statusError(resp); err != nil {
			return nil, err
		}
	}
	if hooks.Headers != nil {
		// The hook's time (a ledger write) is not the server's stall.
		r.x.wd.stop()
		if err := hooks.Headers(resp.StatusCode, resp.Header); err != nil {
			return nil, err
		}
		r.x.wd.kick()
	}
	r.resume = resumeFrom(resp, r.f.FinalURL)
	if r.resumed {
		r.resume = resumeInfo{ok: true, url: r.f.FinalURL, validator: r.adopted.info.Validator, total: r.adopted.info.Total}
	}
	for restarts := 0; ; restarts++ {
		err := r.process()
		var rs *restart
		if errors.As(err, &rs) && restarts < maxRestarts {
			r.x.close()
			r.x = rs.x
			r.resumed = false
			r.resume = resumeFrom(rs.x.resp, r.f.FinalURL)
			r.f.Header, r.f.Status = rs.x.resp.Header, rs.x.resp.StatusCode
			continue
		}
		if rs != nil {
			rs.x.close()
			return nil, rs.cause
		}
		if err != nil {
			return nil, err
		}
		return r.f, nil
	}
}

// xfer is one HTTP exchange (a redirect chain, or one resumption) with its
// own stall watchdog: no byte for StallTimeout cancels its context with
// errStall.
type xfer struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wd     *watchdog
	resp   *http.Response
}

func (d *Downloader) newXfer(parent context.Context) *xfer {
	ctx, cancel := context.WithCancelCause(parent)
	return &xfer{ctx: ctx, cancel: cancel, wd: newWatchdog(d.cfg.StallTimeout, cancel)}
}

func (x *xfer) close() {
	if x.resp != nil {
		_ = x.resp.Body.Close()
	}
	x.wd.stop()
	x.cancel(nil)
}

// follow sends the requests of one redirect chain and returns the final
// response in x.resp, its body unread, and returns the URLs requested.
func (d *Downloader) follow(x *xfer, c fulltext.Candidate, v Validators, rng *fulltext.ResumeInfo) ([]string, error) {
	cur, err := url.Parse(c.URL)
	if err != nil || (cur.Scheme != "http" && cur.Scheme != "https") || cur.Host == "" {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "download: bad candidate url %q", c.URL)
	}
	seen := map[string]bool{}
	var hops []string
	for {
		cur.Fragment, cur.RawFragment = "", ""
		u := cur.String()
		if seen[u] {
			return hops, fulltext.Errorf(fulltext.CodeRedirectLoop, "download: redirect loop back to %s", u)
		}
		seen[u] = true
		hops = append(hops, u)
		req, err := http.NewRequestWithContext(x.ctx, http.MethodGet, u, nil)
		if err != nil {
			return hops, fulltext.Errorf(fulltext.CodeResolverError, "download: %w", err)
		}
		req.Header.Set("Accept", accept(c.Kind))
		if d.cfg.UserAgent != "" {
			req.Header.Set("User-Agent", d.cfg.UserAgent)
		}
		if len(hops) == 1 && c.Referer != "" {
			req.Header.Set("Referer", c.Referer)
		}
		if v.ETag != "" {
			req.Header.Set("If-None-Match", v.ETag)
		}
		if v.LastModified != "" {
			req.Header.Set("If-Modified-Since", v.LastModified)
		}
		if rng != nil {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", rng.Offset))
			req.Header.Set("If-Range", rng.Validator)
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := d.client.Do(req) //nolint:bodyclose // the xfer owns the body and closes it
		if err != nil {
			return hops, err
		}
		x.wd.kick()
		if !isRedirect(resp.StatusCode) {
			x.resp = resp
			return hops, nil
		}
		loc := resp.Header.Get("Location")
		drain(resp.Body)
		if loc == "" {
			return hops, fulltext.Errorf(fulltext.CodeServerError, "download: %s: http %d without Location", u, resp.StatusCode)
		}
		next, err := cur.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			return hops, fulltext.Errorf(fulltext.CodeNotFound, "download: %s: bad redirect to %q", u, loc)
		}
		if len(hops) > d.cfg.MaxHops {
			return hops, fulltext.Errorf(fulltext.CodeMaxHops, "download: more than %d redirects from %s", d.cfg.MaxHops, hops[0])
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

// isWall reports a refusal whose HTML body says why: 401, 403 and 451, and
// any error status a bot shield marks (cf-mitigated).
func isWall(resp *http.Response) bool {
	s := resp.StatusCode
	if s != http.StatusUnauthorized && s != http.StatusForbidden && s != http.StatusUnavailableForLegalReasons &&
		!(s >= 400 && resp.Header.Get("Cf-Mitigated") != "") {
		return false
	}
	ct := ParseContentType(resp.Header.Get("Content-Type"))
	return ct == "text/html" || ct == "application/xhtml+xml"
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
