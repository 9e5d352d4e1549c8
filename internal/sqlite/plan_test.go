package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func pmids(from, n int) []fulltext.Work {
	ws := make([]fulltext.Work, n)
	for i := range ws {
		ws[i] = fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindPMID, Value: fmt.Sprint(from + i)}}
	}
	return ws
}

func total(t *testing.T, s *Store) int {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st.Total
}

func cacheSize(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.w.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&n); err != nil {
		t.Fatalf("PRAGMA cache_size: %v", err)
	}
	return n
}

// TestPlanSession plans in batches through sessions whose transactions
// commit at several sizes: the counts are those of Store.Plan, another
// handle sees a transaction's works once it commits, every work is planned
// once, and jobs are claimed in the order of the input.
func TestPlanSession(t *testing.T) {
	t.Parallel()
	for _, txWorks := range []int{1, 3, 4, 1000} {
		t.Run(fmt.Sprintf("tx=%d", txWorks), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "jobs.db")
			clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
			s := openTest(t, path, clock)
			other := openTest(t, path, clock)
			if _, err := s.Plan(t.Context(), pmids(5, 2)); err != nil { // 5, 6 known before
				t.Fatal(err)
			}
			sess, err := s.BeginPlan(t.Context(), PlanSessionOptions{TxWorks: txWorks, CacheKiB: 4096})
			if err != nil {
				t.Fatal(err)
			}
			if got := cacheSize(t, s); got != -4096 {
				t.Errorf("cache_size in a session %d, want -4096", got)
			}
			// 0..9 in batches of 2 (5 and 6 known), then 0..9 again.
			var got fulltext.PlanResult
			for _, from := range []int{0, 2, 4, 6, 8, 0, 5} {
				n := 2
				if from == 0 && got.Created > 0 || from == 5 {
					n = 5
				}
				res, err := sess.Plan(t.Context(), pmids(from, n))
				if err != nil {
					t.Fatalf("Plan(%d..%d): %v", from, from+n-1, err)
				}
				got.Created += res.Created
				got.Existing += res.Existing
				if seen, want := total(t, other), 2+got.Created; txWorks == 1 && seen != want {
					t.Errorf("tx=1: another handle sees %d jobs after Plan, want %d", seen, want)
				}
			}
			if want := (fulltext.PlanResult{Created: 8, Existing: 12}); got != want {
				t.Errorf("session planned %+v, want %+v", got, want)
			}
			if seen := total(t, other); txWorks == 1000 && seen != 2 {
				t.Errorf("before Close another handle sees %d jobs, want the 2 committed before", seen)
			}
			if err := sess.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := sess.Close(t.Context()); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := sess.Plan(t.Context(), pmids(100, 1)); err == nil {
				t.Error("Plan after Close: no error")
			}
			if got, want := cacheSize(t, s), -writerCacheKiB; got != want {
				t.Errorf("cache_size after Close %d, want %d", got, want)
			}
			if seen := total(t, other); seen != 10 {
				t.Fatalf("after Close another handle sees %d jobs, want 10", seen)
			}
			jobs, err := other.Claim(t.Context(), "test", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var order []string
			for _, j := range jobs {
				order = append(order, j.Work.ID.Value)
			}
			if got, want := fmt.Sprint(order), "[5 6 0 1 2 3 4 7 8 9]"; got != want {
				t.Errorf("claim order %s, want %s (the order planned)", got, want)
			}
		})
	}
}

// TestPlanSessionInterrupted: a cancelled context fails the Plan call it
// interrupts and rolls back the open transaction; what a session planned
// before a cancellation between calls is committed by Close.
func TestPlanSessionInterrupted(t *testing.T) {
	t.Parallel()
	t.Run("between calls", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
		ctx, cancel := context.WithCancel(t.Context())
		sess, err := s.BeginPlan(ctx, PlanSessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sess.Plan(ctx, pmids(0, 3)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := sess.Close(ctx); err != nil {
			t.Fatalf("Close after cancel: %v", err)
		}
		if got := total(t, s); got != 3 {
			t.Errorf("%d jobs after Close, want 3", got)
		}
	})
	t.Run("in a call", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
		sess, err := s.BeginPlan(t.Context(), PlanSessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sess.Plan(t.Context(), pmids(0, 3)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := sess.Plan(ctx, pmids(3, 3)); err == nil {
			t.Fatal("Plan with a cancelled context: no error")
		}
		if _, err := sess.Plan(t.Context(), pmids(6, 1)); err == nil {
			t.Error("Plan after a failed Plan: no error")
		}
		if err := sess.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := total(t, s); got != 0 {
			t.Errorf("%d jobs after a failed session, want 0 (rolled back)", got)
		}
		if _, err := s.Plan(t.Context(), pmids(0, 1)); err != nil { // the writer is free again
			t.Fatalf("Plan after the session: %v", err)
		}
	})
	t.Run("work without id", func(t *testing.T) {
		t.Parallel()
		s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
		sess, err := s.BeginPlan(t.Context(), PlanSessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sess.Close(t.Context()); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		if _, err := sess.Plan(t.Context(), []fulltext.Work{{}}); err == nil {
			t.Error("Plan of a work without id: no error")
		}
	})
}

// TestPlanChunks plans more works than one INSERT takes (the rows of the
// next chunk are encoded while one is inserted): the counts are exact,
// jobs are numbered in input order, and an error or a cancellation in the
// middle stops the encoder.
func TestPlanChunks(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
	first := planChunk*2 + 234
	res, err := s.Plan(t.Context(), pmids(0, first))
	if err != nil || res != (fulltext.PlanResult{Created: first}) {
		t.Fatalf("Plan: %+v, %v", res, err)
	}
	res, err = s.Plan(t.Context(), pmids(first-100, planChunk*3))
	if want := (fulltext.PlanResult{Created: planChunk*3 - 100, Existing: 100}); err != nil || res != want {
		t.Fatalf("re-Plan: %+v, %v; want %+v", res, err, want)
	}
	for _, id := range []int{0, planChunk, first - 1, first + 5} {
		j, err := s.Get(t.Context(), fulltext.WorkID{Kind: fulltext.KindPMID, Value: fmt.Sprint(id)})
		if err != nil || j.ID != int64(id+1) {
			t.Errorf("work %d: job %d, %v; want job %d", id, j.ID, err, id+1)
		}
		if w := (fulltext.Work{ID: j.Work.ID}); j.Key != w.Key() || string(workKey(w.ID)) != string(keyBytes(w.Key())) {
			t.Errorf("work %d: key %s, want %s", id, j.Key, w.Key())
		}
	}
	// A work without id fails the whole call; a cancelled context too.
	bad := pmids(10_000, planChunk*3)
	bad[planChunk*2+1] = fulltext.Work{}
	if _, err := s.Plan(t.Context(), bad); err == nil {
		t.Error("Plan with a work without id: no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Plan(ctx, pmids(10_000, planChunk*3)); err == nil {
		t.Error("Plan with a cancelled context: no error")
	}
	if got, want := total(t, s), first+planChunk*3-100; got != want {
		t.Errorf("%d jobs, want %d", got, want)
	}
}
