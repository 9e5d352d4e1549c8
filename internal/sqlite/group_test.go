package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// TestGroupCommit holds the writer connection while 2n lease writes queue
// up, then lets them go: they must run in ceil(2n/maxGroup) transactions,
// and each caller must get its own result — a stale epoch ErrLeaseLost, a
// write that breaks a constraint half-way its error, with its first
// statements rolled back alone — while the others in its group commit.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	const n = 40
	ctx := t.Context()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), clock)
	ws := make([]fulltext.Work, n)
	for i := range ws {
		id := fulltext.WorkID{Kind: fulltext.KindDOI, Value: fmt.Sprintf("10.5555/group.%d", i)}
		ws[i] = fulltext.Work{ID: id, IDs: fulltext.IDs{DOI: id.Value}}
	}
	if _, err := s.Plan(ctx, ws); err != nil {
		t.Fatal(err)
	}
	stale, err := s.Claim(ctx, "old", n, time.Minute)
	if err != nil || len(stale) != n {
		t.Fatalf("Claim = %d jobs, %v; want %d", len(stale), err, n)
	}
	clock.Advance(2 * time.Minute)
	live, err := s.Claim(ctx, "new", n, time.Minute)
	if err != nil || len(live) != n {
		t.Fatalf("re-Claim = %d jobs, %v; want %d", len(live), err, n)
	}
	g0, w0 := s.groupStats()

	// Take the writer's one connection; job 0 gets a planted completed
	// FINALIZE row, so that its FINALIZED Finish fails on the unique index
	// after it updated the job row.
	conn, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO ledger (job_id, epoch, op, status, detail, at)
		VALUES (?, ?, 'FINALIZE', 'completed', 'planted', 0)`, live[0].ID, live[0].Epoch); err != nil {
		t.Fatal(err)
	}

	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i, j := range live {
		wg.Go(func() {
			errs[2*i] = s.Finish(ctx, j.Lease(), fulltext.Finish{
				State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
				Result:   &fulltext.Result{Kind: fulltext.KindPDF, Source: "s", SHA256: "ab", Path: "pdf/x.pdf"},
				Attempts: []fulltext.Attempt{{Seq: 1, Source: "s", Code: fulltext.CodeOKPDF}},
			})
		})
		wg.Go(func() {
			errs[2*i+1] = s.Step(ctx, stale[i].Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted})
		})
	}
	// Every write is queued (the leader waits for the connection before
	// it takes its group). Spin, yielding, until they are.
	for {
		s.g.mu.Lock()
		queued := len(s.g.queue)
		s.g.mu.Unlock()
		if queued == 2*n {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d writes queued when the test ran out of time", queued, 2*n)
		}
		runtime.Gosched()
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if g, w := s.groupStats(); g-g0 != (2*n+maxGroup-1)/maxGroup || w-w0 != 2*n {
		t.Errorf("%d writes in %d transactions, want %d in %d", w-w0, g-g0, 2*n, (2*n+maxGroup-1)/maxGroup)
	}
	for i, j := range live {
		fin, step := errs[2*i], errs[2*i+1]
		if !errors.Is(step, fulltext.ErrLeaseLost) {
			t.Errorf("stale Step of job %d: %v, want ErrLeaseLost", j.ID, step)
		}
		got, err := s.Get(ctx, j.Work.ID)
		if err != nil {
			t.Fatal(err)
		}
		atts, err := s.Attempts(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if fin == nil || errors.Is(fin, fulltext.ErrLeaseLost) {
				t.Errorf("Finish of the job with a planted FINALIZE: %v, want a constraint error", fin)
			}
			if got.State != fulltext.StateLeased || len(atts) != 0 {
				t.Errorf("failed Finish left job %s with %d attempts, want LEASED and none", got.State, len(atts))
			}
			continue
		}
		if fin != nil {
			t.Errorf("Finish of job %d: %v", j.ID, fin)
		}
		if got.State != fulltext.StateFinalized || len(atts) != 1 || atts[0].Epoch != j.Epoch {
			t.Errorf("job %d is %s with attempts %+v, want FINALIZED with one of epoch %d", j.ID, got.State, atts, j.Epoch)
		}
	}
}

// TestGroupCancelled: a write whose context is cancelled before it runs
// writes nothing and returns the context's error.
func TestGroupCancelled(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), clock)
	id := fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/cancel"}
	if _, err := s.Plan(t.Context(), []fulltext.Work{{ID: id, IDs: fulltext.IDs{DOI: id.Value}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(t.Context(), "w", 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim = %v, %v", jobs, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = s.Step(ctx, jobs[0].Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Step with a cancelled context: %v, want context.Canceled", err)
	}
	if l, err := s.Ledger(t.Context(), jobs[0].ID); err != nil || len(l) != 0 {
		t.Errorf("Ledger = %+v, %v; want no rows", l, err)
	}
}
