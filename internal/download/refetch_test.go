package download_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestRefetch(t *testing.T) {
	t.Parallel()
	pdf := makePDF(5000)
	modtime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	conditional := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v7"`)
		w.Header().Set("Content-Type", "application/pdf")
		http.ServeContent(w, r, "x.pdf", modtime, bytes.NewReader(pdf))
	}
	b := setup(t, map[string]http.HandlerFunc{
		"/x.pdf":  conditional,
		"/moved":  redirect(http.StatusFound, "/x.pdf"),
		"/always": serve("application/pdf", pdf),
	}, download.Config{}, false, filestore.Options{})
	c := func(p string) fulltext.Candidate {
		return fulltext.Candidate{URL: b.srv.URL + p, Kind: fulltext.KindPDF}
	}

	f, err := b.d.Fetch(t.Context(), lease, c("/x.pdf"), download.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Abort()
	v := download.Validators{ETag: f.Header.Get("ETag"), LastModified: f.Header.Get("Last-Modified")}
	if v.ETag != `"v7"` || v.LastModified == "" {
		t.Fatalf("validators %+v", v)
	}
	tests := []struct {
		name         string
		path         string
		v            download.Validators
		wantNotModif bool
	}{
		{"etag matches", "/x.pdf", download.Validators{ETag: `"v7"`}, true},
		{"date matches", "/x.pdf", download.Validators{LastModified: v.LastModified}, true},
		{"through a redirect", "/moved", v, true},
		{"etag changed", "/x.pdf", download.Validators{ETag: `"v6"`}, false},
		{"server ignores conditions", "/always", v, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var streamed bool
			f, err := b.d.Refetch(t.Context(), lease, c(tc.path), tc.v, download.Hooks{Stream: func() error { streamed = true; return nil }})
			if err != nil {
				t.Fatalf("Refetch: %v", err)
			}
			defer f.Abort()
			if f.NotModified != tc.wantNotModif {
				t.Fatalf("NotModified = %v, want %v", f.NotModified, tc.wantNotModif)
			}
			if tc.wantNotModif && (f.Temp != nil || streamed || f.Status != http.StatusNotModified) {
				t.Fatalf("304 streamed a body: temp %v status %d", f.Temp, f.Status)
			}
			if !tc.wantNotModif && f.SHA256 != sha(pdf) {
				t.Fatalf("full answer not downloaded: %+v", f)
			}
			h := b.header(tc.path)
			if tc.v.ETag != "" && h.Get("If-None-Match") != tc.v.ETag {
				t.Fatalf("If-None-Match = %q", h.Get("If-None-Match"))
			}
		})
	}
	// A plain Fetch never sends conditions, so a 304 cannot happen there.
	f, err = b.d.Fetch(t.Context(), lease, c("/x.pdf"), download.Hooks{})
	if err != nil || f.NotModified {
		t.Fatalf("Fetch = %+v, %v", f, err)
	}
	_ = f.Abort()
	if h := b.header("/x.pdf"); h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
		t.Fatalf("Fetch sent conditions: %v", h)
	}
}

func TestEncryptedFlagged(t *testing.T) {
	t.Parallel()
	plain := makePDF(5000)
	enc := bytes.Replace(plain, []byte("/Root 1 0 R"), []byte("/Root 1 0 R /Encrypt 9 0 R"), 1)
	b := setup(t, map[string]http.HandlerFunc{
		"/plain.pdf": serve("application/pdf", plain),
		"/enc.pdf":   serve("application/pdf", enc),
	}, download.Config{}, false, filestore.Options{})
	for p, want := range map[string]bool{"/plain.pdf": false, "/enc.pdf": true} {
		f, err := b.fetch(t, p, fulltext.KindPDF)
		if err != nil || f.Encrypted != want {
			t.Fatalf("%s: Encrypted = %v, %v; want %v", p, f != nil && f.Encrypted, err, want)
		}
		_ = f.Abort()
	}
}

// TestSlowHookIsNotAStall: the time a hook takes (a ledger write) does not
// count against the server's stall timeout.
func TestSlowHookIsNotAStall(t *testing.T) {
	t.Parallel()
	pdf := makePDF(5000)
	b := setup(t, map[string]http.HandlerFunc{"/x.pdf": serve("application/pdf", pdf)},
		download.Config{StallTimeout: 50 * time.Millisecond}, false, filestore.Options{})
	slow := func() error {
		<-time.After(200 * time.Millisecond) // simulates a slow database, not synchronisation
		return nil
	}
	f, err := b.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: b.srv.URL + "/x.pdf"}, download.Hooks{
		Headers: func(int, http.Header) error { return slow() },
		Stream:  slow,
	})
	if err != nil {
		t.Fatalf("Fetch with slow hooks: %v", err)
	}
	_ = f.Abort()
}

// TestContentDispositionIgnored: the server's file name never reaches the
// store; the path is ours.
func TestContentDispositionIgnored(t *testing.T) {
	t.Parallel()
	pdf := makePDF(5000)
	b := setup(t, map[string]http.HandlerFunc{"/x": func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="../../x.pdf"; filename*=UTF-8''..%2F..%2Fy.pdf`)
		serve("application/pdf", pdf)(w, r)
	}}, download.Config{}, false, filestore.Options{})
	f, err := b.fetch(t, "/x", fulltext.KindPDF)
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.d.Commit(t.Context(), f, workID)
	if err != nil || a.Path != "pdf/10.5555_jsim.2021.0042.pdf" {
		t.Fatalf("Commit = %+v, %v", a, err)
	}
	var paths []string
	if err := b.store.Walk(t.Context(), func(p string, _ int64) error { paths = append(paths, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || strings.Contains(paths[0], "..") {
		t.Fatalf("stored paths %v", paths)
	}
}
