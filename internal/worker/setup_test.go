package worker_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
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

// ttl is the lease length in these tests. Leases expire only when a test
// advances the stub clock past it; the real-time renewal ticker (ttl/3)
// never fires during a test.
const ttl = time.Hour

// bundle is a pool over real stores and a loopback server, plus what the
// tests look at.
type bundle struct {
	store *sqlite.Store
	arts  *filestore.Store
	clock *fulltext.StubClock
	pool  *worker.Pool
	logs  *syncBuffer
	log   *slog.Logger
	pdf   []byte
	work  fulltext.Work
}

// openStores opens a real job store (with a stub clock) and a real file
// store in a temporary directory, closed when t ends.
func openStores(t *testing.T) (*fulltext.StubClock, *sqlite.Store, *filestore.Store) {
	t.Helper()
	dir := t.TempDir()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "jobs.sqlite"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	arts, err := filestore.Open(filepath.Join(dir, "out"), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = arts.Close() })
	return clock, store, arts
}

// setup starts handler on loopback and a pool whose only source offers
// <server>/a.pdf for every work, and plans one work.
func setup(t *testing.T, handler func(b *bundle, w http.ResponseWriter, r *http.Request)) *bundle {
	t.Helper()
	clock, store, arts := openStores(t)
	b := &bundle{store: store, arts: arts, clock: clock, logs: &syncBuffer{}, pdf: testPDF(t)}
	b.log = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(b, w, r) }))
	t.Cleanup(srv.Close)
	dl := download.New(download.Config{Clock: clock}, srv.Client(), arts)
	src := &fixedSource{url: srv.URL + "/a.pdf"}
	c := cascade.New(cascade.Config{Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}}},
		map[string]source.Source{"unpaywall": src}, dl, noPages, clock)
	b.pool = worker.New(worker.Config{Workers: 1, Owner: "victim", LeaseTTL: ttl, Clock: clock, Logger: b.log, ReconcileEvery: -1},
		store, arts, c, dl, nil)

	var err error
	b.work, err = fulltext.ParseWork("10.5555/fence.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Plan(t.Context(), []fulltext.Work{b.work}); err != nil {
		t.Fatal(err)
	}
	return b
}

// testPDF is a valid PDF from the simulated web.
func testPDF(t *testing.T) []byte {
	t.Helper()
	srv, err := simweb.New(simweb.Config{Works: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	return srv.World().Works[0].PDF()
}

func noPages(string, int, *download.Fetched, fulltext.Work) cascade.Page {
	return cascade.Page{Code: fulltext.CodeNoPDFLink}
}

// fixedSource offers one PDF URL for every work.
type fixedSource struct{ url string }

func (s *fixedSource) Name() string                  { return "unpaywall" }
func (s *fixedSource) Applicable(fulltext.Work) bool { return true }
func (s *fixedSource) Lookup(context.Context, fulltext.Work) (source.Result, error) {
	return source.Result{Candidates: []fulltext.Candidate{{URL: s.url, Kind: fulltext.KindPDF, Source: "unpaywall"}}}, nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servePDF answers with the whole test PDF.
func servePDF(b *bundle, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/pdf")
	_, _ = io.Copy(w, bytes.NewReader(b.pdf))
}

// job returns the one planned job.
func (b *bundle) job(t *testing.T) fulltext.Job {
	t.Helper()
	j, err := b.store.Get(context.WithoutCancel(t.Context()), b.work.ID)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// artifacts lists committed friendly paths and temps.
func (b *bundle) artifacts(t *testing.T) (paths []string, temps []fulltext.TempInfo) {
	t.Helper()
	if err := b.arts.Walk(t.Context(), func(p string, _ int64) error {
		paths = append(paths, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	temps, err := b.arts.Temps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return paths, temps
}

// finalizeRows counts completed FINALIZE ledger rows of a job.
func (b *bundle) finalizeRows(t *testing.T, jobID int64) int {
	t.Helper()
	rows, err := b.store.Ledger(t.Context(), jobID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Op == fulltext.OpFinalize && r.Status == fulltext.OpCompleted {
			n++
		}
	}
	return n
}
