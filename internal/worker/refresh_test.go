package worker_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
	"github.com/oafetch/oafetch/internal/source"
	"github.com/oafetch/oafetch/internal/sqlite"
	"github.com/oafetch/oafetch/internal/worker"
)

// oneSource offers one PDF URL for every work and counts its lookups.
type oneSource struct {
	url     string
	lookups atomic.Int32
}

func (s *oneSource) Name() string                  { return "unpaywall" }
func (s *oneSource) Applicable(fulltext.Work) bool { return true }
func (s *oneSource) Lookup(context.Context, fulltext.Work) (source.Result, error) {
	s.lookups.Add(1)
	return source.Result{Candidates: []fulltext.Candidate{{URL: s.url, Kind: fulltext.KindPDF, Source: "unpaywall"}}}, nil
}

// pdfServer serves body (swappable) with an ETag and conditional GETs,
// and records the status of every answer.
type pdfServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	gone     bool
	statuses []int
}

func (s *pdfServer) set(body []byte, gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.gone, s.statuses = body, gone, nil
}

func (s *pdfServer) seen() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.statuses...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(c int) { w.status = c; w.ResponseWriter.WriteHeader(c) }

func newPDFServer(t *testing.T) *pdfServer {
	t.Helper()
	s := &pdfServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, gone := s.body, s.gone
		s.mu.Unlock()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		if gone {
			http.NotFound(sw, r)
		} else {
			sw.Header().Set("ETag", `"`+fulltext.Work{ID: fulltext.WorkID{Kind: "x", Value: string(body)}}.Key()[:16]+`"`)
			sw.Header().Set("Content-Type", "application/pdf")
			http.ServeContent(sw, r, "", time.Time{}, bytes.NewReader(body))
		}
		s.mu.Lock()
		s.statuses = append(s.statuses, sw.status)
		s.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return s
}

// TestRefresh runs a real pool (SQLite job store, filesystem artifact
// store, real downloader) over one work, then refreshes it three times:
// unchanged (304 → ok-existing, no source asked), changed (the new bytes
// are stored, ok-pdf), and gone (the cascade runs again).
func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	wk := simweb.NewWorld(simweb.Config{Works: 8, Seed: 7}).Works[5]
	v1 := wk.PDF()
	v2 := bytes.Replace(v1, []byte("(oafetch simweb)"), []byte("(oafetch revise)"), 1)
	if bytes.Equal(v1, v2) {
		t.Fatal("could not make a second version")
	}
	srv := newPDFServer(t)
	srv.set(v1, false)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "jobs.sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	arts, err := filestore.Open(filepath.Join(dir, "out"), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = arts.Close() })
	dl := download.New(download.Config{}, srv.Client(), arts)
	src := &oneSource{url: srv.URL + "/a.pdf"}
	casc := cascade.New(cascade.Config{
		Tiers:  []cascade.Tier{{Name: "t", Parallel: 1, Sources: []string{"unpaywall"}}},
		Verify: dl.Verify,
	}, map[string]source.Source{"unpaywall": src}, dl, func(string, int, *download.Fetched, fulltext.Work) cascade.Page {
		return cascade.Page{Code: fulltext.CodeNoPDFLink}
	}, nil)
	pool := worker.New(worker.Config{Workers: 1, MaxAttempts: 1, Refetcher: dl}, store, arts, casc, dl, nil)

	w := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: wk.IDs.DOI}, IDs: wk.IDs, Title: wk.Title}
	if w.IDs.DOI == "" {
		w.ID = fulltext.WorkID{Kind: fulltext.KindOpenAlex, Value: wk.IDs.OpenAlex}
	}
	if _, err := store.Plan(ctx, []fulltext.Work{w}); err != nil {
		t.Fatal(err)
	}
	run := func() fulltext.Job {
		t.Helper()
		if err := pool.Run(ctx, ctx); err != nil {
			t.Fatal(err)
		}
		j, err := store.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	j := run()
	if j.Code != fulltext.CodeOKPDF || j.Result == nil || j.Result.ETag == "" {
		t.Fatalf("first run: %s %+v", j.Code, j.Result)
	}
	first := *j.Result

	// Unchanged: one conditional request, 304, no source asked.
	srv.set(v1, false)
	if n, err := worker.Refresh(ctx, store); err != nil || n != 1 {
		t.Fatalf("Refresh = %d, %v", n, err)
	}
	lookups := src.lookups.Load()
	j = run()
	if j.Code != fulltext.CodeOKExisting || j.State != fulltext.StateFinalized || j.Result == nil || *j.Result != first {
		t.Errorf("unchanged: %s %s %+v", j.State, j.Code, j.Result)
	}
	if got := srv.seen(); len(got) != 1 || got[0] != http.StatusNotModified {
		t.Errorf("unchanged: server answered %v, want one 304", got)
	}
	if src.lookups.Load() != lookups {
		t.Error("unchanged: a source was asked")
	}

	// Changed: the new bytes replace the stored file.
	srv.set(v2, false)
	if n, err := worker.Refresh(ctx, store); err != nil || n != 1 {
		t.Fatalf("Refresh = %d, %v", n, err)
	}
	j = run()
	if j.Code != fulltext.CodeOKPDF || j.Result == nil || j.Result.SHA256 == first.SHA256 || j.Result.ETag == first.ETag {
		t.Errorf("changed: %s %+v", j.Code, j.Result)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "out", j.Result.Path)); err != nil || !bytes.Equal(data, v2) {
		t.Errorf("changed: stored file is not the new version (%v)", err)
	}
	if got := srv.seen(); len(got) != 1 || got[0] != http.StatusOK {
		t.Errorf("changed: server answered %v, want one 200", got)
	}

	// Gone: the refresh fails and the cascade runs (and fails too).
	srv.set(v2, true)
	if n, err := worker.Refresh(ctx, store); err != nil || n != 1 {
		t.Fatalf("Refresh = %d, %v", n, err)
	}
	lookups = src.lookups.Load()
	j = run()
	if j.Code != fulltext.CodeNotFound || src.lookups.Load() != lookups+1 {
		t.Errorf("gone: %s, lookups %d → %d", j.Code, lookups, src.lookups.Load())
	}
	atts, err := store.Attempts(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	refreshes := 0
	for _, a := range atts {
		if a.Technique == "refresh" && a.Epoch == j.Epoch {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Errorf("gone: %d refresh attempts recorded in the last claim, want 1: %+v", refreshes, atts)
	}
	// A work without a kept result is not refreshed twice.
	if n, err := worker.Refresh(ctx, store); err != nil || n != 0 {
		t.Errorf("Refresh of a failed work = %d, %v; want 0", n, err)
	}
}
