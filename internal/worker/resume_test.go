package worker_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
	"github.com/oafetch/oafetch/internal/worker"
)

// finishSignal is an Observer that hands every Finish to the test.
type finishSignal chan fulltext.Finish

func (c finishSignal) JobFinished(_ fulltext.Job, f fulltext.Finish, _ []fulltext.Attempt) { c <- f }

// TestPoolResumesAcrossClaims runs the real pool: the first claim's
// transfer is cut half way and the server refuses the Range retry, so the
// job goes back to PLANNED with its prefix kept; after the retry time the
// second claim (a new epoch) asks for the rest with Range + If-Range and
// the work is finalized with the original bytes.
func TestPoolResumesAcrossClaims(t *testing.T) {
	t.Parallel()
	clock, store, arts := openStores(t)
	pdf := testPDF(t)
	// Cut past the sniffed head (download.HeadSize): a body cut inside it
	// never reaches a temp, so there is nothing to keep.
	cut := len(pdf) - 40
	if cut <= download.HeadSize {
		t.Fatalf("test PDF of %d bytes is too small to cut past the head", len(pdf))
	}

	var (
		second atomic.Bool
		mu     sync.Mutex
		ranges []string // Range headers of the second phase
		first  atomic.Int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("ETag", `"v1"`)
		if second.Load() {
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(pdf))
			return
		}
		if first.Add(1) > 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
		_, _ = w.Write(pdf[:cut])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)

	dl := download.New(download.Config{Clock: clock}, srv.Client(), arts)
	c := cascade.New(cascade.Config{Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}}},
		map[string]source.Source{"unpaywall": &fixedSource{url: srv.URL + "/a.pdf"}}, dl, noPages, clock)
	finished := make(finishSignal, 4)
	pool := worker.New(worker.Config{Workers: 1, Owner: "w", LeaseTTL: ttl, Clock: clock, ReconcileEvery: -1, Idle: 5 * time.Millisecond},
		store, arts, c, dl, finished)
	w, err := fulltext.ParseWork("10.5555/resume.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Plan(t.Context(), []fulltext.Work{w}); err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- pool.Run(t.Context(), context.Background()) }()
	next := func() fulltext.Finish {
		t.Helper()
		select {
		case f := <-finished:
			return f
		case err := <-ran:
			t.Fatalf("Run ended before the job finished: %v", err)
			return fulltext.Finish{}
		}
	}

	if f := next(); f.State != fulltext.StatePlanned || f.Code != fulltext.CodeTruncated {
		t.Fatalf("first claim finished %s %s, want PLANNED truncated", f.State, f.Code)
	}
	j, err := store.Get(t.Context(), w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if jobs, err := arts.KeptJobs(t.Context()); err != nil || len(jobs) != 1 || jobs[0] != j.ID {
		t.Fatalf("kept jobs = %v, %v; want [%d]", jobs, err, j.ID)
	}
	second.Store(true)
	clock.Advance(24 * time.Hour) // past the retry time

	f := next()
	if f.State != fulltext.StateFinalized || f.Code != fulltext.CodeOKPDF {
		t.Fatalf("second claim finished %s %s (%s), want FINALIZED ok-pdf", f.State, f.Code, f.Detail)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	got := append([]string(nil), ranges...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "bytes="+strconv.Itoa(cut)+"-" {
		t.Fatalf("second claim's Range headers %q, want one bytes=%d-", got, cut)
	}
	rc, err := arts.Open(t.Context(), f.Result.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	stored, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(stored, pdf) {
		t.Fatalf("stored %d bytes (%v), want the original %d", len(stored), err, len(pdf))
	}
	if jobs, _ := arts.KeptJobs(t.Context()); len(jobs) != 0 {
		t.Fatalf("kept prefixes left after FINALIZED: %v", jobs)
	}
}
