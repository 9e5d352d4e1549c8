package download

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// errXMLRejected tells the streaming loop that the JATS check already failed.
var errXMLRejected = errors.New("xml rejected")

// stream writes head and the rest of body to a new temp artifact, hashing
// and validating on the way, and fills f.Temp, f.SHA256 and f.Bytes. An
// interrupted body is resumed with a Range request when the server allows
// it (resume.go). The temp is aborted on every error.
func (r *run) stream(head []byte, body *meter, contentLength int64) (err error) {
	d, f := r.d, r.f
	if r.hooks.Stream != nil && !r.streamed {
		r.streamed = true
		r.x.wd.stop()
		if err := r.hooks.Stream(); err != nil {
			return err
		}
		r.x.wd.kick()
	}
	tmp, err := d.store.Create(r.x.ctx, r.l)
	if err != nil {
		if r.x.ctx.Err() != nil {
			return d.classify(r.x.ctx, err)
		}
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}
	}
	defer func() {
		if err != nil && !r.keep(tmp, body, err) {
			_ = tmp.Abort()
		}
	}()

	// Every byte is hashed once: by the temp artifact when it hashes what
	// it is written (the filestore's does, for its content address), else
	// here (BENCHMARKS.md, P6).
	var h hash.Hash
	ht, tmpHashes := tmp.(hashingTemp)
	if !tmpHashes {
		h = sha256.New()
	}
	f.kept = keep{max: d.cfg.VerifyBytes, kind: f.Kind}
	switch {
	case contentLength > 0 && contentLength <= d.cfg.VerifyBytes:
		// One allocation instead of a doubling series (a third of the
		// bytes a 100 KiB download allocated).
		f.kept.buf = make([]byte, 0, contentLength)
	case contentLength > d.cfg.VerifyBytes && f.Kind == fulltext.KindPDF:
		// Too large to parse: keeping its first VerifyBytes only to drop
		// them cost each large download 8 MiB of heap (P1 200 × 20 MiB:
		// 228 MiB RSS; P4).
		f.kept.cut = true
	}
	tail := &ring{buf: make([]byte, TailSize)}
	var jats *jatsCheck
	if f.Kind == fulltext.KindXML {
		jats = startJATS()
		defer jats.stop()
	}
	write := func(p []byte) error {
		if _, err := tmp.Write(p); err != nil {
			return &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}
		}
		if h != nil {
			h.Write(p)
		}
		f.kept.Write(p)
		_, _ = tail.Write(p) // a ring buffer: never fails
		if jats != nil {
			if _, err := jats.w.Write(p); err != nil {
				if verr := jats.wait(); verr != nil {
					return verr
				}
				return fulltext.Errorf(fulltext.CodeInternal, "download: xml check: %w", err)
			}
		}
		return nil
	}
	if err := write(head); err != nil {
		return err
	}
	if err := failpoint.Inject("mid-stream"); err != nil {
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}
	}
	ck := r.checkpointer(tmp)
	defer func() { _ = ck.wait() }() // before the temp is kept or aborted
	buf := make([]byte, 32<<10)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if err := write(buf[:n]); err != nil {
				return err
			}
			if ck != nil {
				if err := ck.maybe(body.n); err != nil {
					return err
				}
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			cause := d.classify(r.x.ctx, rerr)
			if err := r.resumeBody(body, cause); err != nil {
				return err
			}
		}
	}
	if err := ck.wait(); err != nil {
		return err
	}
	size := body.n
	if contentLength >= 0 && size != contentLength {
		return fulltext.Errorf(fulltext.CodeTruncated, "download: %s: %d of %d bytes", f.FinalURL, size, contentLength)
	}
	switch f.Kind {
	case fulltext.KindPDF:
		if size < d.cfg.MinPDFBytes {
			return fulltext.Errorf(fulltext.CodeTooSmall, "download: %s: pdf of %d bytes, under %d", f.FinalURL, size, d.cfg.MinPDFBytes)
		}
		t := tail.Bytes()
		if err := ValidatePDF(head, t, size); err != nil {
			return err
		}
		f.Encrypted = PDFEncrypted(t)
	case fulltext.KindXML:
		_ = jats.w.Close()
		if err := jats.wait(); err != nil {
			return err
		}
	}
	if err := failpoint.Inject("after-stream"); err != nil {
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}
	}
	var sum string
	if tmpHashes {
		sum = ht.SHA256()
	} else {
		sum = hex.EncodeToString(h.Sum(nil))
	}
	f.Temp, f.SHA256, f.Bytes = tmp, sum, size
	return nil
}

// jatsCheck runs ValidateJATS on the bytes written to w, in a goroutine,
// while they stream to the temp: the XML is parsed without a re-read.
type jatsCheck struct {
	w      *io.PipeWriter
	done   chan error
	err    error
	waited bool
}

func startJATS() *jatsCheck {
	pr, pw := io.Pipe()
	j := &jatsCheck{w: pw, done: make(chan error, 1)}
	go func() {
		err := ValidateJATS(pr)
		if err != nil {
			pr.CloseWithError(errXMLRejected) // unblocks the writer
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		j.done <- err
	}()
	return j
}

// wait returns the verdict once the checker has finished.
func (j *jatsCheck) wait() error {
	if !j.waited {
		j.err, j.waited = <-j.done, true
	}
	return j.err
}

// stop ends the checker on any path and waits for its goroutine.
func (j *jatsCheck) stop() {
	j.w.CloseWithError(errXMLRejected)
	_ = j.wait()
}

// ring keeps the last len(buf) bytes written to it.
type ring struct {
	buf  []byte
	next int
	full bool
}

func (r *ring) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= len(r.buf) {
		copy(r.buf, p[len(p)-len(r.buf):])
		r.next, r.full = 0, true
		return n, nil
	}
	c := copy(r.buf[r.next:], p)
	if c < len(p) {
		copy(r.buf, p[c:])
		r.full = true
	}
	r.next = (r.next + len(p)) % len(r.buf)
	if r.next == 0 && len(p) > 0 {
		r.full = true
	}
	return n, nil
}

// Bytes returns the kept bytes, oldest first.
func (r *ring) Bytes() []byte {
	if !r.full {
		return append([]byte(nil), r.buf[:r.next]...)
	}
	return append(append([]byte(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// hashingTemp is a temp artifact that hashes the bytes written to it and
// reports their SHA-256 in hex.
type hashingTemp interface {
	SHA256() string
}
