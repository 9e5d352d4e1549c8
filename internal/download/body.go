package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// run is the state of one Fetch: the current exchange and what it has
// produced so far.
type run struct {
	d        *Downloader
	parent   context.Context
	l        fulltext.Lease
	hooks    Hooks
	x        *xfer // current exchange; replaced on resumption or restart
	f        *Fetched
	resume   resumeInfo
	resumes  int
	streamed bool // hooks.Stream was called
	key      fulltext.ResumeKey
	adopted  *adoption // a prefix kept by an earlier attempt (keep.go)
	resumed  bool      // r.x.resp is the 206 continuing adopted
}

// process reads the response in r.x: the head is sniffed, then a PDF or XML
// body is streamed to a temp artifact and an HTML/text page is kept in
// memory.
func (r *run) process() error {
	d, resp, f := r.d, r.x.resp, r.f
	f.Page, f.PageCut, f.Temp, f.SHA256, f.Bytes, f.Encrypted = nil, false, nil, "", 0, false
	length := resp.ContentLength
	body := &meter{r: resp.Body, wd: r.x.wd, max: d.cfg.MaxBodyBytes}
	if r.resumed {
		// The kept prefix, re-read (and so re-hashed and re-validated) once,
		// then the rest from the 206.
		length = r.adopted.info.Total
		body.r = io.MultiReader(r.adopted.reader(), resp.Body)
	}
	if length > d.cfg.MaxBodyBytes {
		return fulltext.Errorf(fulltext.CodeTooLarge, "download: %s: content-length %d over %d", f.FinalURL, length, d.cfg.MaxBodyBytes)
	}
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(body, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return d.classify(r.x.ctx, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && body.err != nil {
		return d.classify(r.x.ctx, body.err)
	}
	if n == 0 {
		if length > 0 {
			return fulltext.Errorf(fulltext.CodeTruncated, "download: %s: 0 of %d bytes", f.FinalURL, length)
		}
		return fulltext.Errorf(fulltext.CodeEmptyBody, "download: %s: empty body", f.FinalURL)
	}
	declared := ParseContentType(resp.Header.Get("Content-Type"))
	f.Kind = SniffKind(head, declared)
	switch f.Kind {
	case fulltext.KindPDF, fulltext.KindXML:
		return r.stream(head, body, length)
	case fulltext.KindHTML:
		if !isPDFType(declared) {
			return r.page(head, body, length)
		}
	}
	if looksMarkup(head) {
		return fulltext.Errorf(fulltext.CodeWrongType, "download: %s: html or javascript served as %q", f.FinalURL, declared)
	}
	return fulltext.Errorf(fulltext.CodeWrongType, "download: %s: not a pdf, xml or html document (%q)", f.FinalURL, declared)
}

// page reads the rest of an HTML/text page into f.Page, up to MaxPageBytes.
func (r *run) page(head []byte, body *meter, contentLength int64) error {
	d, f := r.d, r.f
	buf := append(make([]byte, 0, min(d.cfg.MaxPageBytes, max(contentLength, int64(len(head))*4))), head...)
	if rest := d.cfg.MaxPageBytes - int64(len(buf)); rest > 0 {
		more, err := io.ReadAll(io.LimitReader(body, rest))
		if err != nil {
			return d.classify(r.x.ctx, err)
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
