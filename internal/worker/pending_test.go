package worker_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/worker"
)

// pendingCounter counts the Pending calls that reach the job store.
type pendingCounter struct {
	fulltext.JobStore
	calls atomic.Int64
}

func (s *pendingCounter) Pending(ctx context.Context) (bool, error) {
	s.calls.Add(1)
	return s.JobStore.Pending(ctx)
}

// TestDrainedStoreCountedOnce: when the queue is empty, the idle workers
// share one pending check instead of each asking the store
// (BENCHMARKS.md, P5: a re-run over 100,000 finished works).
func TestDrainedStoreCountedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, func(b *bundle, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(b.pdf)
	})
	// The one planned work is fetched by a first run.
	if err := b.pool.Run(t.Context(), context.Background()); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if j, err := b.store.Get(t.Context(), b.work.ID); err != nil || !j.State.Terminal() {
		t.Fatalf("after the first run: %+v %v", j, err)
	}
	counter := &pendingCounter{JobStore: b.store}
	const workers = 8
	pool := worker.New(worker.Config{Workers: workers, Owner: "rerun", LeaseTTL: ttl, Clock: b.clock, Logger: b.log, ReconcileEvery: -1},
		counter, b.arts, nil, nil, nil)
	for run := range 2 {
		counter.calls.Store(0)
		if err := pool.Run(t.Context(), context.Background()); err != nil {
			t.Fatalf("re-run %d: %v", run, err)
		}
		if got := counter.calls.Load(); got != 1 {
			t.Errorf("re-run %d: %d Pending calls by %d idle workers, want 1", run, got, workers)
		}
	}
}
