package download

import (
	"fmt"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/verify"
)

// keep is the copy of a streamed body kept in memory for the wrong-work
// check: the whole body while it fits in Config.VerifyBytes, else nothing
// (the PDF parser needs the whole file; a JATS front matter is at its
// beginning, so an XML keeps its first VerifyBytes).
type keep struct {
	max  int64
	kind fulltext.Kind
	buf  []byte
	cut  bool
}

func (k *keep) Write(p []byte) {
	if k.cut && k.kind == fulltext.KindPDF {
		return
	}
	if rest := k.max - int64(len(k.buf)); int64(len(p)) > rest {
		k.buf = append(k.buf, p[:max(rest, 0)]...)
		k.cut = true
		if k.kind == fulltext.KindPDF {
			k.buf = nil
		}
		return
	}
	k.buf = append(k.buf, p...)
}

// Verify is the wrong-work check of a validated download f against the
// work w (its identifiers and the title the sources taught the cascade),
// run before the cascade accepts f (package verify says how). It returns
// the check's report for the attempt's Detail — always, the inconclusive
// verdict included — and, when f must not be accepted, a *fulltext.Error:
//
//   - wrong-work: the document is clearly another work's;
//   - wrong-scope: a PDF of at most 2 pages that says it is a preview or
//     sample pages.
//
// An encrypted PDF is accepted and flagged in the report. Verify does not
// abort f's temp: the caller does. Safe for concurrent use.
func (d *Downloader) Verify(f *Fetched, w fulltext.Work) (string, error) {
	var rep verify.Report
	switch {
	case f.Temp == nil && f.Page != nil:
		rep = d.check.HTML(f.Page, w)
	case f.Kind == fulltext.KindXML:
		rep = d.check.JATS(f.kept.buf, w)
	case f.Kind == fulltext.KindPDF && f.kept.buf == nil:
		rep = verify.Report{Verdict: verify.Inconclusive, Reason: fmt.Sprintf("pdf over %d bytes not parsed", d.cfg.VerifyBytes)}
	case f.Kind == fulltext.KindPDF:
		rep = d.check.PDF(f.kept.buf, w)
	default:
		rep = verify.Report{Verdict: verify.Inconclusive, Reason: "nothing to check"}
	}
	rep.Encrypted = rep.Encrypted || f.Encrypted
	detail := rep.String()
	switch {
	case rep.Verdict == verify.Mismatch:
		return detail, fulltext.Errorf(fulltext.CodeWrongWork, "download: %s: %s", f.FinalURL, detail)
	case rep.Preview:
		return detail, fulltext.Errorf(fulltext.CodeWrongScope, "download: %s: a preview, not the full text: %s", f.FinalURL, detail)
	}
	return detail, nil
}
