package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
)

func openTest(t testing.TB, path string, clock fulltext.Clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Clock: clock, MaxAttempts: fulltexttest.JobStoreMaxAttempts})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestJobStore(t *testing.T) {
	t.Parallel()
	fulltexttest.RunJobStoreTests(t, func(t *testing.T, clock *fulltext.StubClock) fulltext.JobStore {
		return openTest(t, filepath.Join(t.TempDir(), "jobs.db"), clock)
	})
}

// TestManyHandles runs four Stores on one file, as four processes would:
// each claims and finishes until the work is done. BEGIN IMMEDIATE and the
// busy timeout must keep "database is locked" away, and fencing must keep
// every job to one claim.
func TestManyHandles(t *testing.T) {
	t.Parallel()
	const n, handles = 120, 4
	path := filepath.Join(t.TempDir(), "jobs.db")
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	// The handles open (and migrate) the new file at once.
	stores := make([]*Store, handles)
	openErrs := make([]error, handles)
	var opening sync.WaitGroup
	for i := range stores {
		opening.Go(func() {
			stores[i], openErrs[i] = Open(t.Context(), path, Options{Clock: clock})
		})
	}
	opening.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
	if err := errors.Join(openErrs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	ws := make([]fulltext.Work, n)
	for i := range ws {
		ws[i] = fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindPMID, Value: fmt.Sprint(i + 1)}}
	}
	var wg sync.WaitGroup
	errs := make(chan error, handles)
	var mu sync.Mutex
	claimed := map[int64]int{}
	for i, s := range stores {
		wg.Go(func() {
			ctx := t.Context()
			if _, err := s.Plan(ctx, ws); err != nil {
				errs <- err
				return
			}
			for {
				jobs, err := s.Claim(ctx, fmt.Sprintf("proc%d", i), 1+i%2*7, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(jobs) == 0 {
					return
				}
				for _, j := range jobs {
					mu.Lock()
					claimed[j.ID]++
					mu.Unlock()
					if err := s.Step(ctx, j.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted,
						To: fulltext.StateStreaming}); err != nil {
						errs <- err
						return
					}
					if err := s.Finish(ctx, j.Lease(), fulltext.Finish{State: fulltext.StateFinalized,
						Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
						Result: &fulltext.Result{Source: fmt.Sprintf("proc%d", i)}}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("handle: %v", err)
	}
	if len(claimed) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			t.Errorf("job %d claimed %d times", id, c)
		}
	}
	st, err := stores[0].Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != n || st.ByState[fulltext.StateFinalized] != n {
		t.Errorf("Stats total %d finalized %d, want %d", st.Total, st.ByState[fulltext.StateFinalized], n)
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), path, Options{})
	if !errors.Is(err, fulltext.ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestReopenKeepsJobsAndMigratesOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jobs.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindOpenAlex, Value: "W1"}}
	if _, err := s.Plan(t.Context(), []fulltext.Work{w}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, nil)
	if _, err := s.Get(t.Context(), w.ID); err != nil {
		t.Errorf("Get after reopen: %v", err)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

func TestOneLiveFinalizeEnforcedBySchema(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
	ctx := t.Context()
	if _, err := s.Plan(ctx, []fulltext.Work{{ID: fulltext.WorkID{Kind: fulltext.KindPMID, Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v %v", jobs, err)
	}
	if err := s.Finish(ctx, jobs[0].Lease(), fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK,
		Code: fulltext.CodeOKPDF}); err != nil {
		t.Fatal(err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO ledger (job_id, epoch, op, status, at) VALUES (?, 1, 'FINALIZE', 'completed', 0)`, jobs[0].ID)
	if err == nil {
		t.Errorf("a second live completed FINALIZE row was accepted")
	}
}

func TestClaimUsesIndexes(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
	rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+fmt.Sprintf(claimSQL, 1), "w", 1, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	var claim, lease bool
	for _, p := range plan {
		if p == "SCAN jobs" {
			t.Errorf("claim scans the whole jobs table: %q", plan)
		}
		claim = claim || strings.Contains(p, "jobs_claim")
		lease = lease || strings.Contains(p, "jobs_lease")
	}
	if !claim || !lease {
		t.Errorf("claim plan %q does not use jobs_claim and jobs_lease", plan)
	}
}
