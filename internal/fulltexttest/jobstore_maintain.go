package fulltexttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func maintainCases() []jobStoreCase {
	return []jobStoreCase{
		{"Reconcile/ExpiredLeasesReturnToPlanned", testReconcileExpired},
		{"Reconcile/AttemptsExhaustedFail", testReconcileExhausted},
		{"Reconcile/IdempotentConcurrent", testReconcileConcurrent},
		{"Requeue/SupersedesFinalize", testRequeue},
		{"Retry/ByCodesAndAllRetryable", testRetry},
		{"Stats/Counts", testStats},
		{"Pending/FollowsTheJobs", testPending},
	}
}

func testReconcileExpired(t *testing.T, h *harness) {
	ws := works("rec", 3)
	h.plan(ws...)
	jobs := h.claim("dead", 3, time.Minute)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(jobs))
	}
	h.step(jobs[1].Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming})
	h.finalize(jobs[2].Lease(), "arxiv")
	if got := h.reconcile(); len(got) != 0 {
		t.Errorf("Reconcile with live leases = %+v, want nothing", got)
	}
	h.plan(works("live", 1)...)
	live := h.claimOne("alive", time.Hour)
	h.clock.Advance(2 * time.Minute)
	rec := h.reconcile()
	if len(rec) != 2 {
		t.Fatalf("Reconcile = %+v, want 2 recoveries", rec)
	}
	byJob := map[int64]fulltext.Recovery{}
	for _, r := range rec {
		byJob[r.JobID] = r
	}
	for _, j := range jobs[:2] {
		r, ok := byJob[j.ID]
		if !ok || r.Action != "lease_expired" || r.WorkID != j.Work.ID.String() || r.Detail == "" {
			t.Errorf("recovery of job %d = %+v, want lease_expired for %s with a detail", j.ID, r, j.Work.ID)
		}
		got := h.get(j.Work.ID)
		if got.State != fulltext.StatePlanned || got.Epoch != 2 || got.Attempts != 1 {
			t.Errorf("recovered job %s epoch %d attempts %d, want PLANNED epoch 2 attempts 1", got.State, got.Epoch, got.Attempts)
		}
		if got.NotBefore.After(h.clock.Now()) {
			t.Errorf("recovered job due at %v, want now", got.NotBefore)
		}
		h.assertFenced(j.Lease())
	}
	if got := h.get(live.Work.ID); got.State != fulltext.StateLeased || got.Epoch != 1 {
		t.Errorf("live lease disturbed by Reconcile: %s epoch %d", got.State, got.Epoch)
	}
	if got := h.get(jobs[2].Work.ID); got.State != fulltext.StateFinalized || got.Epoch != 1 {
		t.Errorf("finished job disturbed by Reconcile: %s epoch %d", got.State, got.Epoch)
	}
	if again := h.claim("next", 5, time.Minute); len(again) != 2 {
		t.Errorf("Claim after Reconcile = %d jobs, want the 2 recovered", len(again))
	}
}

func testReconcileExhausted(t *testing.T, h *harness) {
	j := h.planClaim("crashloop", time.Minute)
	for i := 2; i <= JobStoreMaxAttempts; i++ {
		h.clock.Advance(2 * time.Minute)
		if got := h.claimOne("w", time.Minute); got.ID != j.ID || got.Attempts != i {
			t.Fatalf("re-claim %d = job %d attempts %d", i, got.ID, got.Attempts)
		}
	}
	h.clock.Advance(2 * time.Minute)
	if got := h.claim("w", 1, time.Minute); len(got) != 0 {
		t.Fatalf("Claim of an expired lease with no attempts left = %+v, want nothing", got)
	}
	rec := h.reconcile()
	if len(rec) != 1 || rec[0].JobID != j.ID || rec[0].Action != "attempts_exhausted" || rec[0].Detail == "" {
		t.Fatalf("Reconcile = %+v, want one attempts_exhausted for job %d", rec, j.ID)
	}
	got := h.get(j.Work.ID)
	if got.State != fulltext.StateFailed || got.Code != fulltext.CodeInternal || got.Outcome != fulltext.OutcomeError {
		t.Errorf("exhausted job %s %s %s, want FAILED error internal", got.State, got.Outcome, got.Code)
	}
	if !strings.Contains(got.Detail, "attempt") {
		t.Errorf("exhausted job detail %q does not say why", got.Detail)
	}
	if got.Epoch != JobStoreMaxAttempts+1 {
		t.Errorf("exhausted job epoch %d, want %d (bumped to fence the last holder)", got.Epoch, JobStoreMaxAttempts+1)
	}
	if again := h.reconcile(); len(again) != 0 {
		t.Errorf("second Reconcile = %+v, want nothing", again)
	}
}

func testReconcileConcurrent(t *testing.T, h *harness) {
	const n, reconcilers, rounds = 20, 2, 5
	h.plan(works("rc", n)...)
	jobs := h.claim("dead", n, time.Minute)
	h.clock.Advance(time.Hour)
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
	)
	err := collect(t.Context(), reconcilers, func(ctx context.Context, _ int) error {
		for range rounds {
			rec, err := h.s.Reconcile(ctx)
			if err != nil {
				return err
			}
			mu.Lock()
			for _, r := range rec {
				seen[r.JobID]++
			}
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrent Reconcile: %v", err)
	}
	if len(seen) != n {
		t.Errorf("recovered %d jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %d reported %d times, want once", id, c)
		}
	}
	for _, j := range jobs {
		if got := h.get(j.Work.ID); got.State != fulltext.StatePlanned || got.Epoch != 2 {
			t.Errorf("job %d %s epoch %d, want PLANNED epoch 2", j.ID, got.State, got.Epoch)
		}
	}
}

func testRequeue(t *testing.T, h *harness) {
	ctx := t.Context()
	j := h.planClaim("requeue", time.Minute)
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpCompleted, To: fulltext.StateStreaming})
	h.finalize(j.Lease(), "pmc")
	if err := h.s.Requeue(ctx, j.ID, "artifact missing"); err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	got := h.get(j.Work.ID)
	if got.State != fulltext.StatePlanned || got.Epoch != 2 || got.Attempts != 0 || got.Result != nil || got.Code != "" {
		t.Errorf("requeued job %+v, want PLANNED epoch 2 attempts 0 without result or code", got)
	}
	if !strings.Contains(got.Detail, "artifact missing") {
		t.Errorf("requeued job detail %q lacks the reason", got.Detail)
	}
	if l := h.ledger(j.ID); countFinalize(l) != 0 {
		t.Errorf("ledger after Requeue %+v still has a live FINALIZE", l)
	}
	h.assertFenced(j.Lease())
	again := h.claimOne("w", time.Minute)
	if again.ID != j.ID || again.Epoch != 3 || again.Attempts != 1 {
		t.Errorf("re-claim after Requeue = job %d epoch %d attempts %d, want %d, 3, 1", again.ID, again.Epoch, again.Attempts, j.ID)
	}
	wantErr(t, "Requeue of a leased job", h.s.Requeue(ctx, j.ID, "x"), fulltext.ErrBadTransition)
	h.finalize(again.Lease(), "pmc")
	if c := countFinalize(h.ledger(j.ID)); c != 1 {
		t.Errorf("%d live completed FINALIZE rows after re-finalizing, want 1", c)
	}
	wantErr(t, "Requeue unknown", h.s.Requeue(ctx, j.ID+1000, "x"), fulltext.ErrNotFound)
}

func testRetry(t *testing.T, h *harness) {
	ctx := t.Context()
	codes := []fulltext.Code{fulltext.CodeServerError, fulltext.CodeTimeout, fulltext.CodeBlockedPaywall,
		fulltext.CodeNotFound, fulltext.CodeCreditsExhausted}
	ids := map[fulltext.Code]fulltext.WorkID{}
	for _, c := range codes {
		j := h.planClaim(string(c), time.Minute)
		h.fail(j.Lease(), c)
		ids[c] = j.Work.ID
	}
	ok := h.planClaim("ok", time.Minute)
	h.finalize(ok.Lease(), "arxiv")
	pending := h.planClaim("pending", time.Minute)
	h.finish(pending.Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
		Code: fulltext.CodeServerError, NotBefore: h.clock.Now().Add(time.Hour)})

	retry := func(f fulltext.RetryFilter) int {
		t.Helper()
		n, err := h.s.Retry(ctx, f)
		if err != nil {
			t.Fatalf("Retry(%+v): %v", f, err)
		}
		return n
	}
	if n := retry(fulltext.RetryFilter{}); n != 0 {
		t.Errorf("Retry with an empty filter = %d, want 0", n)
	}
	if n := retry(fulltext.RetryFilter{Codes: []fulltext.Code{fulltext.CodeNotFound}}); n != 1 {
		t.Errorf("Retry(not-found) = %d, want 1", n)
	}
	if n := retry(fulltext.RetryFilter{AllRetryable: true}); n != 3 {
		t.Errorf("Retry(all retryable) = %d, want 3 (server-error, timeout, credits-exhausted)", n)
	}
	if n := retry(fulltext.RetryFilter{AllRetryable: true}); n != 0 {
		t.Errorf("second Retry(all retryable) = %d, want 0", n)
	}
	for c, id := range ids {
		got := h.get(id)
		wantRetried := c != fulltext.CodeBlockedPaywall
		if wantRetried && (got.State != fulltext.StatePlanned || got.Attempts != 0 || got.Epoch != 2) {
			t.Errorf("retried %s job: %s attempts %d epoch %d, want PLANNED 0 2", c, got.State, got.Attempts, got.Epoch)
		}
		if !wantRetried && (got.State != fulltext.StateFailed || got.Code != c) {
			t.Errorf("%s job was retried: %s %s", c, got.State, got.Code)
		}
	}
	if got := h.get(ok.Work.ID); got.State != fulltext.StateFinalized {
		t.Errorf("ok job retried: %s", got.State)
	}
	if got := h.get(pending.Work.ID); got.Epoch != 1 || !got.NotBefore.Equal(h.clock.Now().Add(time.Hour)) {
		t.Errorf("pending job disturbed by Retry: epoch %d not_before %v", got.Epoch, got.NotBefore)
	}
	if n := retry(fulltext.RetryFilter{Codes: []fulltext.Code{fulltext.CodeOKPDF}}); n != 1 {
		t.Errorf("Retry(ok-pdf) = %d, want 1", n)
	}
	if l := h.ledger(ok.ID); countFinalize(l) != 0 {
		t.Errorf("ledger of a retried job %+v still has a live FINALIZE", l)
	}
}

func testStats(t *testing.T, h *harness) {
	for i, src := range []string{"europepmc", "europepmc", "pmc"} {
		j := h.planClaim("ok"+string(rune('a'+i)), time.Hour)
		code := fulltext.CodeOKPDF
		if src == "pmc" {
			code = fulltext.CodeOKXML
		}
		h.finish(j.Lease(), fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: code,
			Result: &fulltext.Result{Kind: fulltext.KindPDF, Source: src, SHA256: "ab"}})
	}
	paywall := h.planClaim("paywall", time.Hour)
	h.fail(paywall.Lease(), fulltext.CodeBlockedPaywall)
	h.planClaim("expired", time.Minute)
	h.plan(works("live", 1)...)
	h.claimOne("w1", time.Hour)
	h.clock.Advance(2 * time.Minute) // the lease of "expired" ends
	h.plan(works("planned", 2)...)

	st := h.stats()
	if st.Total != 8 {
		t.Errorf("Total = %d, want 8", st.Total)
	}
	wantEqual(t, "ByState", nonZero(st.ByState), map[fulltext.JobState]int{
		fulltext.StatePlanned: 2, fulltext.StateLeased: 2, fulltext.StateFinalized: 3, fulltext.StateFailed: 1})
	wantEqual(t, "ByCode", nonZero(st.ByCode), map[fulltext.Code]int{
		fulltext.CodeOKPDF: 2, fulltext.CodeOKXML: 1, fulltext.CodeBlockedPaywall: 1})
	wantEqual(t, "ByOutcome", nonZero(st.ByOutcome), map[fulltext.Outcome]int{
		fulltext.OutcomeOK: 3, fulltext.OutcomeBlocked: 1})
	wantEqual(t, "BySourceOK", nonZero(st.BySourceOK), map[string]int{"europepmc": 2, "pmc": 1})
	if st.LiveLeases != 1 {
		t.Errorf("LiveLeases = %d, want 1 (one lease expired)", st.LiveLeases)
	}
	wantEqual(t, "Workers", nonZero(st.Workers), map[string]int{"w1": 1})
}

// nonZero returns m without its zero counts (nil for an empty result), so
// that stores may report zero rows or omit them.
func nonZero[K comparable](m map[K]int) map[K]int {
	out := map[K]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// testPending: Pending is true exactly while some job is not terminal —
// planned (due or waiting for its retry time), leased, moved on by a step,
// or leased and expired — and agrees with Stats at every point.
func testPending(t *testing.T, h *harness) {
	check := func(when string, want bool) {
		t.Helper()
		got, err := h.s.Pending(t.Context())
		if err != nil {
			t.Fatalf("%s: Pending: %v", when, err)
		}
		fromStats := false
		for s, n := range h.stats().ByState {
			fromStats = fromStats || (n > 0 && !s.Terminal())
		}
		if got != want || fromStats != want {
			t.Errorf("%s: Pending = %v (Stats says %v), want %v", when, got, fromStats, want)
		}
	}
	check("empty store", false)
	ws := works("pend", 3)
	h.plan(ws...)
	check("planned", true)
	jobs := h.claim("w", 3, time.Minute)
	if len(jobs) != 3 {
		t.Fatalf("claimed %d jobs, want 3", len(jobs))
	}
	check("leased", true)
	h.finalize(jobs[0].Lease(), "unpaywall")
	h.fail(jobs[1].Lease(), fulltext.CodeNotFound)
	h.step(jobs[2].Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone})
	check("one job past HEAD", true)
	h.clock.Advance(2 * time.Minute)
	check("its lease expired", true)
	again := h.reconcile()
	if len(again) == 0 {
		t.Fatal("reconcile recovered nothing")
	}
	check("reconciled to PLANNED", true)
	j := h.claimOne("w", time.Minute)
	h.finish(j.Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
		Code: fulltext.CodeServerError, Detail: "503", NotBefore: h.clock.Now().Add(time.Hour)})
	check("waiting for its retry time", true)
	h.clock.Advance(2 * time.Hour)
	j = h.claimOne("w", time.Minute)
	h.fail(j.Lease(), fulltext.CodeServerError)
	check("all terminal", false)
}
