package fulltexttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// JobStoreMaxAttempts is the MaxAttempts the store under test must be
// configured with.
const JobStoreMaxAttempts = 5

// jobStoreEpoch is where every subtest's stub clock starts.
func jobStoreEpoch() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }

// RunJobStoreTests is the conformance suite of fulltext.JobStore. newStore
// must return a fresh, empty store that takes its time (leases, not_before,
// timestamps) from clock, allows JobStoreMaxAttempts claims per job, and is
// closed by a t.Cleanup it registers. Subtests run in parallel.
//
// Beyond the interface's doc comments, the suite pins these choices:
//   - Claim orders by not_before, then job id; a PLANNED job is due at its
//     not_before (Plan sets it to now); a lease expires when now reaches
//     LeaseUntil. A re-claim of an expired lease puts the job in LEASED.
//   - Step moves only between leased states (terminal states are reached by
//     Finish), and a completed FINALIZE row is written only by Finish.
//   - Finish PLANNED on a job that has used all its attempts makes it
//     FAILED, keeping the worker's outcome and code.
//   - AddAttempts needs only the epoch to be current, so it may follow
//     Finish. Finish.Attempts are written in the Finish's transaction: a
//     failed Finish records none.
//   - Concurrent writes are fenced and fail each on its own (a store may
//     share one transaction between them).
//   - Requeue and Retry reset attempts, clear outcome, code and result, and
//     supersede the job's ledger rows, which Ledger then no longer returns.
//   - Reconcile fails an expired lease with code internal when the job has
//     used all its attempts; Claim leaves such jobs to Reconcile.
//   - An empty RetryFilter matches nothing.
func RunJobStoreTests(t *testing.T, newStore func(t *testing.T, clock *fulltext.StubClock) fulltext.JobStore) {
	t.Helper()
	groups := [][]jobStoreCase{planCases(), leaseCases(), finishCases(), maintainCases(), liveCases(), metaCases()}
	for _, cases := range groups {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				clock := fulltext.NewStubClock(jobStoreEpoch())
				c.run(t, &harness{t: t, s: newStore(t, clock), clock: clock})
			})
		}
	}
}

// jobStoreCase is one subtest of the suite.
type jobStoreCase struct {
	name string
	run  func(t *testing.T, h *harness)
}

// harness bundles the store under test with its clock and checked helpers.
type harness struct {
	t     *testing.T
	s     fulltext.JobStore
	clock *fulltext.StubClock
}

// works returns n distinct works with DOIs 10.5555/<prefix>.<i>.
func works(prefix string, n int) []fulltext.Work {
	out := make([]fulltext.Work, n)
	for i := range out {
		id := fulltext.WorkID{Kind: fulltext.KindDOI, Value: fmt.Sprintf("10.5555/%s.%d", prefix, i)}
		out[i] = fulltext.Work{ID: id, IDs: fulltext.IDs{DOI: id.Value}}
	}
	return out
}

func (h *harness) plan(ws ...fulltext.Work) fulltext.PlanResult {
	h.t.Helper()
	r, err := h.s.Plan(h.t.Context(), ws)
	if err != nil {
		h.t.Fatalf("Plan: %v", err)
	}
	return r
}

func (h *harness) claim(owner string, n int, ttl time.Duration) []fulltext.Job {
	h.t.Helper()
	jobs, err := h.s.Claim(h.t.Context(), owner, n, ttl)
	if err != nil {
		h.t.Fatalf("Claim(%q, %d): %v", owner, n, err)
	}
	return jobs
}

// claimOne plans nothing and claims exactly one job.
func (h *harness) claimOne(owner string, ttl time.Duration) fulltext.Job {
	h.t.Helper()
	jobs := h.claim(owner, 1, ttl)
	if len(jobs) != 1 {
		h.t.Fatalf("Claim(%q, 1) = %d jobs, want 1", owner, len(jobs))
	}
	return jobs[0]
}

// planClaim plans one work and claims it; no other job may be claimable.
func (h *harness) planClaim(name string, ttl time.Duration) fulltext.Job {
	h.t.Helper()
	w := works(name, 1)[0]
	h.plan(w)
	j := h.claimOne("w-"+name, ttl)
	if j.Work.ID != w.ID {
		h.t.Fatalf("planClaim(%s) claimed %s: another job was claimable", name, j.Work.ID)
	}
	return j
}

func (h *harness) get(id fulltext.WorkID) fulltext.Job {
	h.t.Helper()
	j, err := h.s.Get(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("Get(%s): %v", id, err)
	}
	return j
}

func (h *harness) step(l fulltext.Lease, s fulltext.Step) {
	h.t.Helper()
	if err := h.s.Step(h.t.Context(), l, s); err != nil {
		h.t.Fatalf("Step(%v, %+v): %v", l, s, err)
	}
}

func (h *harness) finish(l fulltext.Lease, f fulltext.Finish) {
	h.t.Helper()
	if err := h.s.Finish(h.t.Context(), l, f); err != nil {
		h.t.Fatalf("Finish(%v, %+v): %v", l, f, err)
	}
}

func (h *harness) ledger(jobID int64) []fulltext.LedgerEntry {
	h.t.Helper()
	l, err := h.s.Ledger(h.t.Context(), jobID)
	if err != nil {
		h.t.Fatalf("Ledger(%d): %v", jobID, err)
	}
	return l
}

func (h *harness) stats() fulltext.Stats {
	h.t.Helper()
	st, err := h.s.Stats(h.t.Context())
	if err != nil {
		h.t.Fatalf("Stats: %v", err)
	}
	return st
}

func (h *harness) reconcile() []fulltext.Recovery {
	h.t.Helper()
	r, err := h.s.Reconcile(h.t.Context())
	if err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
	return r
}

// finalize finishes l as a FINALIZED ok-pdf from source.
func (h *harness) finalize(l fulltext.Lease, source string) {
	h.t.Helper()
	h.finish(l, fulltext.Finish{
		State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
		Result: &fulltext.Result{Kind: fulltext.KindPDF, Source: source, URL: "https://example.org/a.pdf",
			SHA256: "ab", Bytes: 10, Path: "pdf/a.pdf"},
	})
}

// fail finishes l as FAILED with code c.
func (h *harness) fail(l fulltext.Lease, c fulltext.Code) {
	h.t.Helper()
	h.finish(l, fulltext.Finish{State: fulltext.StateFailed, Outcome: c.Outcome(), Code: c, Detail: "test"})
}

// countFinalize returns the number of completed FINALIZE rows in entries.
func countFinalize(entries []fulltext.LedgerEntry) int {
	n := 0
	for _, e := range entries {
		if e.Op == fulltext.OpFinalize && e.Status == fulltext.OpCompleted {
			n++
		}
	}
	return n
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// wantEqual fails the test unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// wantTime fails the test unless got and want are the same instant.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// assertFenced checks that every write with the stale lease l returns
// ErrLeaseLost.
func (h *harness) assertFenced(l fulltext.Lease) {
	h.t.Helper()
	ctx := h.t.Context()
	_, err := h.s.Renew(ctx, l, time.Minute)
	wantErr(h.t, "Renew with stale lease", err, fulltext.ErrLeaseLost)
	err = h.s.Step(ctx, l, fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted})
	wantErr(h.t, "Step with stale lease", err, fulltext.ErrLeaseLost)
	err = h.s.Finish(ctx, l, fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeError, Code: fulltext.CodeInternal})
	wantErr(h.t, "Finish with stale lease", err, fulltext.ErrLeaseLost)
	err = h.s.Release(ctx, l)
	wantErr(h.t, "Release with stale lease", err, fulltext.ErrLeaseLost)
	err = h.s.AddAttempts(ctx, l, []fulltext.Attempt{{Seq: 1, Source: "unpaywall", Code: fulltext.CodeNotFound}})
	wantErr(h.t, "AddAttempts with stale lease", err, fulltext.ErrLeaseLost)
}

// collect runs fn in n goroutines and returns their errors joined.
func collect(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- fn(ctx, i) }()
	}
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}
