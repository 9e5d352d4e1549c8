package download

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const (
	// maxResumes bounds the Range resumptions of one Fetch.
	maxResumes = 5
	// maxRestarts bounds the restarts from byte zero of one Fetch, when a
	// server answers a Range request with the whole (possibly changed) file.
	maxRestarts = 1
)

// resumeInfo says whether and how an interrupted body can be resumed: the
// response had a length, no content coding (offsets would not match the
// decoded bytes) and a validator for If-Range (a strong ETag, else
// Last-Modified), and did not say Accept-Ranges: none.
type resumeInfo struct {
	ok        bool
	url       string
	validator string
	total     int64
}

func resumeFrom(resp *http.Response, url string) resumeInfo {
	h := resp.Header
	if resp.Uncompressed || h.Get("Content-Encoding") != "" || resp.ContentLength <= 0 ||
		strings.EqualFold(strings.TrimSpace(h.Get("Accept-Ranges")), "none") {
		return resumeInfo{}
	}
	v := h.Get("ETag")
	if v == "" || strings.HasPrefix(v, "W/") {
		v = h.Get("Last-Modified")
	}
	if v == "" {
		return resumeInfo{}
	}
	return resumeInfo{ok: true, url: url, validator: v, total: resp.ContentLength}
}

// restart asks Fetch to start over with the full response in x: the server
// ignored Range or the file changed (If-Range did not match).
type restart struct {
	x     *xfer
	cause error
}

func (e *restart) Error() string { return "download: restart from zero after: " + e.cause.Error() }

// resumeBody continues body after it failed with cause (an outcome error)
// at offset body.n: a Range request with If-Range; on a matching 206 the
// body reads on from the new response and nil is returned, so the bytes
// already written, hashed and validated are kept and never re-read. A 200
// is a *restart. When resumption is not possible or fails, cause is
// returned.
func (r *run) resumeBody(body *meter, cause error) error {
	switch fulltext.CodeOf(cause) {
	case fulltext.CodeTruncated, fulltext.CodeNetworkError, fulltext.CodeTimeout:
	default:
		return cause
	}
	if !r.resume.ok || r.resumes >= maxResumes || r.parent.Err() != nil || body.n <= 0 || body.n >= r.resume.total {
		return cause
	}
	r.resumes++
	x := r.d.newXfer(r.parent)
	req, err := http.NewRequestWithContext(x.ctx, http.MethodGet, r.resume.url, nil)
	if err != nil {
		x.close()
		return cause
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-", body.n))
	req.Header.Set("If-Range", r.resume.validator)
	req.Header.Set("Accept-Encoding", "identity")
	if r.d.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", r.d.cfg.UserAgent)
	}
	resp, err := r.d.client.Do(req) //nolint:bodyclose // the xfer owns the body and closes it
	if err != nil {
		x.close()
		return cause
	}
	x.resp = resp
	x.wd.kick()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, end, total, ok := ParseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != body.n || total != r.resume.total || end != total-1 ||
			resp.Header.Get("Content-Encoding") != "" {
			x.close()
			return cause
		}
		r.x.close()
		r.x = x
		body.r, body.wd, body.err = resp.Body, x.wd, nil
		return nil
	case http.StatusOK:
		return &restart{x: x, cause: cause}
	}
	x.close()
	return cause
}

// ParseContentRange parses a Content-Range header of a 206 response,
// "bytes first-last/total" (total "*" when unknown, returned as -1). ok is
// false for anything else, including unsatisfied ranges ("bytes */n") and
// inconsistent numbers. Pure.
func ParseContentRange(v string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found || !isAllDigits(a) || !isAllDigits(b) {
		return 0, 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first > last {
		return 0, 0, 0, false
	}
	if tot == "*" {
		return first, last, -1, true
	}
	if !isAllDigits(tot) {
		return 0, 0, 0, false
	}
	total, err := strconv.ParseInt(tot, 10, 64)
	if err != nil || last >= total {
		return 0, 0, 0, false
	}
	return first, last, total, true
}
