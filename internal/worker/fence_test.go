package worker_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// stealFn takes the job away from the pool's holder while its download is
// in flight: the stub clock moves past the lease, and another holder (or a
// reconciler) takes the job.
type stealFn func(t *testing.T, b *bundle) error

// thief claims the expired job as another process would and ends it.
func thief(t *testing.T, b *bundle) error {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	b.clock.Advance(2 * ttl)
	jobs, err := b.store.Claim(ctx, "thief", 1, ttl)
	if err != nil || len(jobs) != 1 {
		return err
	}
	return b.store.Finish(ctx, jobs[0].Lease(), fulltext.Finish{
		State: fulltext.StateFailed, Outcome: fulltext.OutcomeError, Code: fulltext.CodeInternal, Detail: "taken by the thief",
	})
}

// reconciler makes the expired job claimable again (another process's
// startup reconcile); the pool then claims it anew and finishes it.
func reconciler(t *testing.T, b *bundle) error {
	t.Helper()
	b.clock.Advance(2 * ttl)
	_, err := b.store.Reconcile(context.WithoutCancel(t.Context()))
	return err
}

// TestLeaseLostMidDownload proves fencing inside one process: a holder
// whose lease expired while its download was in flight gets ErrLeaseLost at
// its next write and leaves no artifact, no temp and no FINALIZE row.
func TestLeaseLostMidDownload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// midBody steals after half the body was sent; otherwise before
		// the response headers.
		midBody bool
		steal   stealFn
		// wantState is the job's end state; a FINALIZED job must have been
		// finalized by a later claim of the pool, exactly once.
		wantState fulltext.JobState
	}{
		{"before headers, thief", false, thief, fulltext.StateFailed},
		{"mid body, thief", true, thief, fulltext.StateFailed},
		{"before headers, reconciled and reclaimed", false, reconciler, fulltext.StateFinalized},
		{"mid body, reconciled and reclaimed", true, reconciler, fulltext.StateFinalized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var once sync.Once
			steal := func(b *bundle) {
				once.Do(func() {
					if err := tt.steal(t, b); err != nil {
						t.Errorf("steal: %v", err)
					}
				})
			}
			b := setup(t, func(b *bundle, w http.ResponseWriter, r *http.Request) {
				if !tt.midBody {
					steal(b)
					servePDF(b, w, r)
					return
				}
				w.Header().Set("Content-Type", "application/pdf")
				half := len(b.pdf) / 2
				_, _ = w.Write(b.pdf[:half])
				w.(http.Flusher).Flush()
				steal(b)
				_, _ = w.Write(b.pdf[half:])
			})
			first := b.job(t)

			if err := b.pool.Run(t.Context(), t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}

			if !strings.Contains(b.logs.String(), "lease lost") {
				t.Errorf("the fenced holder did not report a lost lease; log:\n%s", b.logs)
			}
			j := b.job(t)
			if j.State != tt.wantState {
				t.Fatalf("job ended %s (%s), want %s", j.State, j.Detail, tt.wantState)
			}
			if j.Epoch <= first.Epoch+1 {
				t.Errorf("job epoch %d: want it bumped past the fenced claim's", j.Epoch)
			}
			paths, temps := b.artifacts(t)
			if len(temps) != 0 {
				t.Errorf("temps left behind: %+v", temps)
			}
			rows, err := b.store.Ledger(t.Context(), j.ID)
			if err != nil {
				t.Fatal(err)
			}
			fenced := first.Epoch + 1 // the pool's first claim
			for _, r := range rows {
				if r.Epoch == fenced && r.Status == fulltext.OpCompleted && r.Op != fulltext.OpHead {
					t.Errorf("the fenced holder wrote %s %s after losing its lease", r.Op, r.Status)
				}
			}
			switch tt.wantState {
			case fulltext.StateFinalized:
				if n := b.finalizeRows(t, j.ID); n != 1 {
					t.Errorf("%d FINALIZE rows, want 1", n)
				}
				if len(paths) != 1 || j.Result == nil || paths[0] != j.Result.Path {
					t.Errorf("artifacts %v, want exactly the finalized %+v", paths, j.Result)
				}
			default:
				if n := b.finalizeRows(t, j.ID); n != 0 {
					t.Errorf("%d FINALIZE rows, want 0", n)
				}
				if len(paths) != 0 {
					t.Errorf("artifacts %v written by a fenced holder", paths)
				}
			}
		})
	}
}

// TestRunFinalizesOnce is the baseline of the fencing tests: without
// interference the job is finalized with one FINALIZE row and one artifact.
func TestRunFinalizesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	if err := b.pool.Run(t.Context(), t.Context()); err != nil {
		t.Fatal(err)
	}
	j := b.job(t)
	if j.State != fulltext.StateFinalized || j.Result == nil || j.Result.Bytes != int64(len(b.pdf)) {
		t.Fatalf("job %s %s %+v, want FINALIZED with the %d-byte PDF", j.State, j.Detail, j.Result, len(b.pdf))
	}
	if n := b.finalizeRows(t, j.ID); n != 1 {
		t.Errorf("%d FINALIZE rows, want 1", n)
	}
	paths, temps := b.artifacts(t)
	if len(paths) != 1 || len(temps) != 0 {
		t.Errorf("artifacts %v, temps %v; want one artifact, no temp", paths, temps)
	}
}
