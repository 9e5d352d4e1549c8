package download_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// TestVerify fetches real (simulated) PDFs, a JATS document and an HTML
// page and checks them against the right and the wrong work.
func TestVerify(t *testing.T) {
	t.Parallel()
	world := simweb.NewWorld(simweb.Config{Works: 12, Seed: 7}).Works
	var a, b simweb.Work
	for _, wk := range world[3:] {
		if wk.IDs.DOI == "" {
			continue
		}
		if a.Title == "" {
			a = wk
		} else if wk.Title != a.Title {
			b = wk
			break
		}
	}
	serve := func(ct string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(body)
		}
	}
	bundle := setup(t, map[string]http.HandlerFunc{
		"/a.pdf":   serve("application/pdf", a.PDF()),
		"/big.pdf": serve("application/pdf", makePDF(300<<10)),
		"/j.xml":   serve("application/xml", []byte(jatsDoc)),
		"/enc.pdf": serve("application/pdf", bytes.Replace(makePDF(4<<10), []byte("trailer\n<< /Size"), []byte("trailer\n<< /Encrypt 9 0 R /Size"), 1)),
		"/p.html":  serve("text/html", []byte(strings.ReplaceAll(landingHTML, "<title>", `<meta name="citation_doi" content="10.5555/jsim.2021.0042"><title>`))),
	}, download.Config{VerifyBytes: 200 << 10}, false, filestore.Options{})
	jsim := fulltext.Work{IDs: fulltext.IDs{DOI: "10.5555/jsim.2021.0042"}, Title: "A study of simulated scholarship"}
	other := fulltext.Work{IDs: fulltext.IDs{DOI: "10.5555/other.1"}, Title: "Hanseatic Trade Networks Revisited"}
	for _, tt := range []struct {
		path   string
		w      fulltext.Work
		code   fulltext.Code
		detail string
	}{
		{"/a.pdf", fulltext.Work{IDs: a.IDs, Title: a.Title}, "", "work check: match"},
		{"/a.pdf", fulltext.Work{IDs: b.IDs, Title: b.Title}, fulltext.CodeWrongWork, "work check: mismatch"},
		{"/big.pdf", jsim, "", "not parsed"},  // over VerifyBytes: inconclusive
		{"/enc.pdf", jsim, "", "; encrypted"}, // stored, flagged
		{"/j.xml", jsim, "", "work check: match"},
		{"/j.xml", other, fulltext.CodeWrongWork, "mismatch"},
		{"/p.html", jsim, "", "work check: match"},
		{"/p.html", other, fulltext.CodeWrongWork, "mismatch"},
	} {
		f, err := bundle.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: bundle.srv.URL + tt.path}, download.Hooks{})
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		detail, err := bundle.d.Verify(f, tt.w)
		_ = f.Abort()
		if (err == nil) != (tt.code == "") || err != nil && fulltext.CodeOf(err) != tt.code || !strings.Contains(detail, tt.detail) {
			t.Errorf("%s vs %v: detail %q err %v, want code %q and %q", tt.path, tt.w.IDs, detail, err, tt.code, tt.detail)
		}
	}
}
