package worker_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
	"github.com/oafetch/oafetch/internal/worker"
)

// dropCounter counts the DropKept calls that reach the file store.
type dropCounter struct {
	*filestore.Store
	calls atomic.Int64
}

func (d *dropCounter) DropKept(ctx context.Context, k fulltext.ResumeKey) error {
	d.calls.Add(1)
	return d.Store.DropKept(ctx, k)
}

// twoSource offers two PDF URLs, in order, for every work.
type twoSource struct{ a, b string }

func (s *twoSource) Name() string                  { return "unpaywall" }
func (s *twoSource) Applicable(fulltext.Work) bool { return true }
func (s *twoSource) Lookup(context.Context, fulltext.Work) (source.Result, error) {
	return source.Result{Candidates: []fulltext.Candidate{
		{URL: s.a, Kind: fulltext.KindPDF, Source: "unpaywall"},
		{URL: s.b, Kind: fulltext.KindPDF, Source: "unpaywall"},
	}}, nil
}

// TestDropKeptOnlyWhenSomethingMayBeKept: at the end of a claim the pool
// drops the job's kept prefixes only when some may exist — kept by this
// claim's downloader, or by an earlier lease (epoch > 1). A first claim
// that kept nothing costs no directory read (no LIST request on S3); one
// whose first candidate was cut and kept before the second won must drop
// that prefix.
func TestDropKeptOnlyWhenSomethingMayBeKept(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		cutFirst  bool
		wantDrops int64
	}{
		{"nothing kept", false, 0},
		{"first candidate kept, second won", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock, store, fs := openStores(t)
			arts := &dropCounter{Store: fs}
			pdf := testPDF(t)
			cut := len(pdf) - 40
			var aRequests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/pdf")
				w.Header().Set("ETag", `"v1"`)
				if r.URL.Path == "/a.pdf" && tt.cutFirst {
					if aRequests.Add(1) > 1 {
						// The in-fetch Range retry is refused: the
						// prefix is kept for a later attempt.
						http.Error(w, "busy", http.StatusServiceUnavailable)
						return
					}
					w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
					_, _ = w.Write(pdf[:cut])
					_ = http.NewResponseController(w).Flush()
					panic(http.ErrAbortHandler)
				}
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pdf))
			}))
			t.Cleanup(srv.Close)
			dl := download.New(download.Config{Clock: clock}, srv.Client(), arts)
			c := cascade.New(cascade.Config{Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}}},
				map[string]source.Source{"unpaywall": &twoSource{a: srv.URL + "/a.pdf", b: srv.URL + "/b.pdf"}}, dl, noPages, clock)
			pool := worker.New(worker.Config{Workers: 1, Owner: "w", LeaseTTL: ttl, Clock: clock, ReconcileEvery: -1},
				store, arts, c, dl, nil)
			w, err := fulltext.ParseWork("10.5555/drop.1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Plan(t.Context(), []fulltext.Work{w}); err != nil {
				t.Fatal(err)
			}
			if err := pool.Run(t.Context(), context.Background()); err != nil {
				t.Fatal(err)
			}
			j, err := store.Get(t.Context(), w.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != fulltext.StateFinalized {
				t.Fatalf("job ended %s %s, want FINALIZED", j.State, j.Code)
			}
			if tt.cutFirst && aRequests.Load() == 0 {
				t.Fatal("the first candidate was never fetched")
			}
			if got := arts.calls.Load(); got != tt.wantDrops {
				t.Errorf("DropKept called %d times, want %d", got, tt.wantDrops)
			}
			if kept, err := fs.KeptJobs(t.Context()); err != nil || len(kept) != 0 {
				t.Errorf("kept prefixes left for jobs %v (%v), want none", kept, err)
			}
		})
	}
}
