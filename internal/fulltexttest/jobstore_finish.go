package fulltexttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func finishCases() []jobStoreCase {
	return []jobStoreCase{
		{"Step/LedgerAndStateAtomic", testStep},
		{"Step/IllegalTransitionWritesNothing", testStepBadTransition},
		{"Finish/FinalizedOneLedgerRow", testFinishFinalized},
		{"Finish/DedupedOneLedgerRow", testFinishDeduped},
		{"Finish/FailedAndSkippedNoFinalize", testFinishFailed},
		{"Finish/PlannedSetsNotBeforeKeepsAttempts", testFinishPlanned},
		{"Finish/PlannedAfterLastAttemptFails", testFinishPlannedExhausted},
		{"Finish/IllegalTransitionWritesNothing", testFinishBadTransition},
		{"Attempts/RoundTrip", testAttempts},
		{"Finish/AttemptsAtomicAndFenced", testFinishAttempts},
		{"Finish/ConcurrentStepsAndFinishes", testConcurrentWrites},
	}
}

func testStep(t *testing.T, h *harness) {
	j := h.planClaim("step", time.Minute)
	h.clock.Advance(time.Second)
	t1 := h.clock.Now()
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted, Detail: "HEAD https://x"})
	if got := h.get(j.Work.ID); got.State != fulltext.StateLeased {
		t.Errorf("Step without To moved the job to %s", got.State)
	}
	h.clock.Advance(time.Second)
	t2 := h.clock.Now()
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone})
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming})
	if got := h.get(j.Work.ID); got.State != fulltext.StateStreaming || got.Epoch != 1 {
		t.Errorf("after steps job is %s epoch %d, want STREAMING epoch 1", got.State, got.Epoch)
	}
	want := []fulltext.LedgerEntry{
		{JobID: j.ID, Epoch: 1, Op: fulltext.OpHead, Status: fulltext.OpStarted, Detail: "HEAD https://x", At: t1},
		{JobID: j.ID, Epoch: 1, Op: fulltext.OpHead, Status: fulltext.OpCompleted, At: t2},
		{JobID: j.ID, Epoch: 1, Op: fulltext.OpStream, Status: fulltext.OpStarted, At: t2},
	}
	got := h.ledger(j.ID)
	if len(got) != len(want) {
		t.Fatalf("Ledger = %+v, want %+v", got, want)
	}
	for i := range want {
		wantTime(t, "ledger At", got[i].At, want[i].At)
		got[i].At = want[i].At
	}
	wantEqual(t, "Ledger", got, want)
}

func testStepBadTransition(t *testing.T, h *harness) {
	j := h.planClaim("badstep", time.Minute)
	bad := []fulltext.Step{
		{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateResumeOK},    // LEASED → RESUME_OK
		{Op: fulltext.OpFinalize, Status: fulltext.OpStarted, To: fulltext.StateFinalized}, // terminal: Finish only
		{Op: fulltext.OpHead, Status: fulltext.OpStarted, To: fulltext.StateLeased},        // no self move
		{Op: fulltext.OpFinalize, Status: fulltext.OpCompleted},                            // Finish only
	}
	for _, s := range bad {
		wantErr(t, "Step "+string(s.To), h.s.Step(t.Context(), j.Lease(), s), fulltext.ErrBadTransition)
	}
	if got := h.get(j.Work.ID); got.State != fulltext.StateLeased {
		t.Errorf("after illegal steps job is %s, want LEASED", got.State)
	}
	if l := h.ledger(j.ID); len(l) != 0 {
		t.Errorf("illegal steps wrote ledger rows %+v", l)
	}
}

func testFinishFinalized(t *testing.T, h *harness) {
	j := h.planClaim("fin", time.Minute)
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming})
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpFinalize, Status: fulltext.OpStarted})
	h.clock.Advance(time.Second)
	res := &fulltext.Result{Kind: fulltext.KindPDF, Source: "europepmc",
		URL: "https://europepmc.org/articles/PMC9990001?pdf=render", SHA256: "9f86d081884c7d65",
		Bytes: 482113, Path: "pdf/10.5555_jsim.2021.0042.pdf", ETag: `"abc"`, LastMod: "Tue, 01 Jan 2026 00:00:00 GMT"}
	h.finish(j.Lease(), fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK,
		Code: fulltext.CodeOKPDF, Detail: "done", Result: res})
	got := h.get(j.Work.ID)
	if got.State != fulltext.StateFinalized || got.Outcome != fulltext.OutcomeOK || got.Code != fulltext.CodeOKPDF ||
		got.Detail != "done" || got.Attempts != 1 {
		t.Errorf("finished job %+v", got)
	}
	wantEqual(t, "Result", got.Result, res)
	wantTime(t, "UpdatedAt", got.UpdatedAt, h.clock.Now())
	if st := h.stats(); st.LiveLeases != 0 {
		t.Errorf("Stats.LiveLeases = %d after Finish, want 0", st.LiveLeases)
	}
	l := h.ledger(j.ID)
	if c := countFinalize(l); c != 1 {
		t.Fatalf("%d completed FINALIZE rows, want 1: %+v", c, l)
	}
	last := l[len(l)-1]
	if last.Op != fulltext.OpFinalize || last.Status != fulltext.OpCompleted || last.Epoch != 1 {
		t.Errorf("last ledger row %+v, want the completed FINALIZE of epoch 1", last)
	}
	wantTime(t, "FINALIZE At", last.At, h.clock.Now())
	// The lease ended with Finish: a second Finish is refused.
	err := h.s.Finish(t.Context(), j.Lease(), fulltext.Finish{State: fulltext.StateFinalized,
		Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF, Result: res})
	wantErr(t, "second Finish", err, fulltext.ErrLeaseLost)
	if c := countFinalize(h.ledger(j.ID)); c != 1 {
		t.Errorf("%d completed FINALIZE rows after a second Finish, want 1", c)
	}
	if got := h.claim("w", 1, time.Minute); len(got) != 0 {
		t.Errorf("a FINALIZED job was claimed again")
	}
}

func testFinishDeduped(t *testing.T, h *harness) {
	j := h.planClaim("dedup", time.Minute)
	h.finish(j.Lease(), fulltext.Finish{State: fulltext.StateDeduped, Outcome: fulltext.OutcomeOK,
		Code: fulltext.CodeOKExisting, Result: &fulltext.Result{Kind: fulltext.KindXML, Source: "pmc", SHA256: "cd"}})
	if got := h.get(j.Work.ID); got.State != fulltext.StateDeduped || got.Code != fulltext.CodeOKExisting {
		t.Errorf("job %s %s, want DEDUPED ok-existing", got.State, got.Code)
	}
	if c := countFinalize(h.ledger(j.ID)); c != 1 {
		t.Errorf("%d completed FINALIZE rows for DEDUPED, want 1", c)
	}
}

func testFinishFailed(t *testing.T, h *harness) {
	for _, state := range []fulltext.JobState{fulltext.StateFailed, fulltext.StateSkippedDuplicate} {
		j := h.planClaim(string(state), time.Minute)
		code := fulltext.CodeBlockedPaywall
		if state == fulltext.StateSkippedDuplicate {
			code = fulltext.CodeSkipDuplicateURL
		}
		h.finish(j.Lease(), fulltext.Finish{State: state, Outcome: code.Outcome(), Code: code, Detail: "why"})
		got := h.get(j.Work.ID)
		if got.State != state || got.Code != code || got.Outcome != code.Outcome() || got.Detail != "why" || got.Result != nil {
			t.Errorf("job %+v, want %s %s", got, state, code)
		}
		if c := countFinalize(h.ledger(j.ID)); c != 0 {
			t.Errorf("%s wrote %d FINALIZE rows, want 0", state, c)
		}
	}
}

func testFinishPlanned(t *testing.T, h *harness) {
	j := h.planClaim("retry", time.Minute)
	due := h.clock.Now().Add(10 * time.Minute)
	h.finish(j.Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
		Code: fulltext.CodeServerError, Detail: "503", NotBefore: due})
	got := h.get(j.Work.ID)
	if got.State != fulltext.StatePlanned || got.Attempts != 1 || got.Epoch != 1 || got.Code != fulltext.CodeServerError {
		t.Errorf("job %+v, want PLANNED attempts 1 epoch 1 server-error", got)
	}
	wantTime(t, "NotBefore", got.NotBefore, due)
	h.assertFenced(fulltext.Lease{JobID: j.ID, Epoch: j.Epoch - 1})
	wantErr(t, "Step after Finish", h.s.Step(t.Context(), j.Lease(),
		fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted}), fulltext.ErrLeaseLost)
	h.clock.Advance(10 * time.Minute)
	if again := h.claimOne("w", time.Minute); again.Attempts != 2 || again.Epoch != 2 {
		t.Errorf("re-claim attempts %d epoch %d, want 2 and 2", again.Attempts, again.Epoch)
	}
}

func testFinishPlannedExhausted(t *testing.T, h *harness) {
	h.plan(works("exhaust", 1)...)
	var last fulltext.Job
	for i := 1; i <= JobStoreMaxAttempts; i++ {
		last = h.claimOne("w", time.Minute)
		h.finish(last.Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
			Code: fulltext.CodeRateLimited, Detail: "429"})
		got := h.get(last.Work.ID)
		if i < JobStoreMaxAttempts && (got.State != fulltext.StatePlanned || got.Attempts != i) {
			t.Fatalf("after attempt %d job is %s attempts %d, want PLANNED %d", i, got.State, got.Attempts, i)
		}
	}
	got := h.get(last.Work.ID)
	if got.State != fulltext.StateFailed || got.Code != fulltext.CodeRateLimited || got.Outcome != fulltext.OutcomeRetry {
		t.Errorf("after the last attempt job is %s %s %s, want FAILED retry rate-limited", got.State, got.Outcome, got.Code)
	}
	if !strings.HasPrefix(got.Detail, "429") || !strings.Contains(got.Detail, "attempts exhausted") {
		t.Errorf("after the last attempt detail is %q, want the worker's detail and \"attempts exhausted\"", got.Detail)
	}
	if got := h.claim("w", 1, time.Minute); len(got) != 0 {
		t.Errorf("a job with no attempts left was claimed")
	}
}

func testFinishBadTransition(t *testing.T, h *harness) {
	j := h.planClaim("badfin", time.Minute)
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone})
	for _, f := range []fulltext.Finish{
		{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF}, // HEAD_DONE → FINALIZED
		{State: fulltext.StateStreaming},
		{State: fulltext.StateIndexed},
		{State: "BOGUS"},
	} {
		wantErr(t, "Finish "+string(f.State), h.s.Finish(t.Context(), j.Lease(), f), fulltext.ErrBadTransition)
	}
	got := h.get(j.Work.ID)
	if got.State != fulltext.StateHeadDone || got.Code != "" {
		t.Errorf("after illegal Finish job is %s %q, want HEAD_DONE without code", got.State, got.Code)
	}
	if l := h.ledger(j.ID); len(l) != 1 {
		t.Errorf("ledger %+v, want only the HEAD row", l)
	}
}

func testAttempts(t *testing.T, h *harness) {
	j := h.planClaim("att", time.Minute)
	at := h.clock.Now().Add(-time.Second)
	in := []fulltext.Attempt{
		{Seq: 1, Source: "unpaywall", Host: "api.unpaywall.org", URL: "https://api.unpaywall.org/v2/10.5555/x",
			Technique: "best_oa_location.url_for_landing_page", Kind: fulltext.KindHTML, HTTPStatus: 200,
			Bytes: 1234, Duration: 1500 * time.Millisecond, Code: fulltext.CodeNoPDFLink, Detail: "landing only",
			Hops: []string{"https://doi.org/10.5555/x", "https://publisher.example/x"}, At: at},
		{Seq: 2, Source: "landing", Host: "publisher.example", URL: "https://publisher.example/x.pdf",
			Technique: "citation_pdf_url", Kind: fulltext.KindPDF, HTTPStatus: 403, Code: fulltext.CodeBlockedForbidden,
			Version: "acceptedVersion", License: "cc-by", Parent: 1, At: at.Add(time.Millisecond)},
	}
	if err := h.s.AddAttempts(t.Context(), j.Lease(), in); err != nil {
		t.Fatalf("AddAttempts: %v", err)
	}
	h.fail(j.Lease(), fulltext.CodeBlockedForbidden)
	// AddAttempts may follow Finish while the epoch is current.
	late := fulltext.Attempt{Seq: 3, Source: "wayback", Code: fulltext.CodeNoCapture, At: at}
	if err := h.s.AddAttempts(t.Context(), j.Lease(), []fulltext.Attempt{late}); err != nil {
		t.Fatalf("AddAttempts after Finish: %v", err)
	}
	got, err := h.s.Attempts(t.Context(), j.ID)
	if err != nil {
		t.Fatalf("Attempts: %v", err)
	}
	want := append(in, late)
	if len(got) != len(want) {
		t.Fatalf("Attempts = %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		want[i].JobID, want[i].Epoch = j.ID, j.Epoch
		wantTime(t, "attempt At", got[i].At, want[i].At)
		got[i].At = want[i].At
	}
	wantEqual(t, "Attempts", got, want)
	if other, err := h.s.Attempts(t.Context(), j.ID+1000); err != nil || len(other) != 0 {
		t.Errorf("Attempts of an unknown job = %+v, %v; want none", other, err)
	}
}

// testFinishAttempts: the attempts of a Finish are recorded with it, in
// the same transaction; a Finish that fails (stale epoch, illegal move)
// records none.
func testFinishAttempts(t *testing.T, h *harness) {
	j := h.planClaim("finatt", time.Minute)
	at := h.clock.Now()
	mk := func(seq int, src string) fulltext.Attempt {
		return fulltext.Attempt{Seq: seq, Source: src, Host: src + ".example", URL: "https://" + src + ".example/x",
			Code: fulltext.CodeNotFound, Detail: src, Hops: []string{"https://a.example/" + src}, At: at}
	}
	// An illegal move records nothing.
	h.step(j.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone})
	err := h.s.Finish(t.Context(), j.Lease(), fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK,
		Code: fulltext.CodeOKPDF, Attempts: []fulltext.Attempt{mk(1, "illegal")}})
	wantErr(t, "illegal Finish with attempts", err, fulltext.ErrBadTransition)
	h.wantAttempts(j.ID)

	// The lease expires and the job is claimed again: epoch 2.
	h.clock.Advance(2 * time.Minute)
	j2 := h.claimOne("w2", time.Minute)
	if j2.ID != j.ID || j2.Epoch != j.Epoch+1 {
		t.Fatalf("re-claim got job %d epoch %d, want job %d epoch %d", j2.ID, j2.Epoch, j.ID, j.Epoch+1)
	}
	err = h.s.Finish(t.Context(), j.Lease(), fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeError,
		Code: fulltext.CodeNotFound, Attempts: []fulltext.Attempt{mk(1, "stale"), mk(2, "stale2")}})
	wantErr(t, "stale Finish with attempts", err, fulltext.ErrLeaseLost)
	h.wantAttempts(j.ID)

	want := []fulltext.Attempt{mk(1, "unpaywall"), mk(2, "landing")}
	h.finish(j2.Lease(), fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.CodeNotFound.Outcome(),
		Code: fulltext.CodeNotFound, Attempts: want})
	if got := h.get(j.Work.ID); got.State != fulltext.StateFailed || got.Code != fulltext.CodeNotFound {
		t.Errorf("job %s %s, want FAILED not-found", got.State, got.Code)
	}
	for i := range want {
		want[i].JobID, want[i].Epoch = j2.ID, j2.Epoch
	}
	h.wantAttempts(j.ID, want...)
	// The lease ended with the Finish: a second one records nothing.
	err = h.s.Finish(t.Context(), j2.Lease(), fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeError,
		Code: fulltext.CodeInternal, Attempts: []fulltext.Attempt{mk(3, "again")}})
	wantErr(t, "second Finish with attempts", err, fulltext.ErrLeaseLost)
	h.wantAttempts(j.ID, want...)
}

// wantAttempts checks the recorded attempts of a job (times to the
// microsecond, as every store keeps at least that).
func (h *harness) wantAttempts(jobID int64, want ...fulltext.Attempt) {
	h.t.Helper()
	got, err := h.s.Attempts(h.t.Context(), jobID)
	if err != nil {
		h.t.Fatalf("Attempts(%d): %v", jobID, err)
	}
	if len(got) != len(want) {
		h.t.Fatalf("Attempts(%d) = %+v, want %+v", jobID, got, want)
	}
	if len(want) == 0 {
		return // nil or empty
	}
	for i := range want {
		wantTime(h.t, "attempt At", got[i].At, want[i].At)
		got[i].At = want[i].At
	}
	wantEqual(h.t, "Attempts", got, want)
}

// testConcurrentWrites runs many Steps and Finishes at once, a third of
// them with stale epochs and some illegal, and checks that each call got
// its own result and wrote exactly what it should: a store that shares
// transactions between concurrent writes must fence and roll back each
// write alone.
func testConcurrentWrites(t *testing.T, h *harness) {
	const n = 48
	h.plan(works("conc", n)...)
	stale := h.claim("old", n, time.Minute)
	if len(stale) != n {
		t.Fatalf("claimed %d jobs, want %d", len(stale), n)
	}
	h.clock.Advance(2 * time.Minute)
	live := h.claim("new", n, time.Minute)
	if len(live) != n {
		t.Fatalf("re-claimed %d jobs, want %d", len(live), n)
	}
	byID := map[int64]fulltext.Job{}
	for _, j := range stale {
		byID[j.ID] = j
	}
	att := func(j fulltext.Job, seq int) fulltext.Attempt {
		return fulltext.Attempt{Seq: seq, Source: "src", Code: fulltext.CodeNotFound,
			Detail: fmt.Sprintf("job %d epoch %d", j.ID, j.Epoch), At: h.clock.Now()}
	}
	// Goroutine 2i writes with job i's live lease, 2i+1 with its stale one.
	err := collect(t.Context(), 2*n, func(ctx context.Context, g int) error {
		j := live[g/2]
		if g%2 == 1 {
			old := byID[j.ID]
			err := h.s.Step(ctx, old.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted, To: fulltext.StateHeadDone})
			if !errors.Is(err, fulltext.ErrLeaseLost) {
				return fmt.Errorf("stale Step %v: %w, want ErrLeaseLost", old.Lease(), err)
			}
			err = h.s.Finish(ctx, old.Lease(), fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeError,
				Code: fulltext.CodeInternal, Attempts: []fulltext.Attempt{att(old, 1)}})
			if !errors.Is(err, fulltext.ErrLeaseLost) {
				return fmt.Errorf("stale Finish %v: %w, want ErrLeaseLost", old.Lease(), err)
			}
			return nil
		}
		if g%4 == 0 {
			err := h.s.Step(ctx, j.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateResumeOK})
			if !errors.Is(err, fulltext.ErrBadTransition) {
				return fmt.Errorf("illegal Step %v: %w, want ErrBadTransition", j.Lease(), err)
			}
		}
		if err := h.s.Step(ctx, j.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone}); err != nil {
			return fmt.Errorf("step %v: %w", j.Lease(), err)
		}
		if err := h.s.Finish(ctx, j.Lease(), fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.CodeNotFound.Outcome(),
			Code: fulltext.CodeNotFound, Attempts: []fulltext.Attempt{att(j, 1), att(j, 2)}}); err != nil {
			return fmt.Errorf("finish %v: %w", j.Lease(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range live {
		got := h.get(j.Work.ID)
		if got.State != fulltext.StateFailed || got.Code != fulltext.CodeNotFound || got.Epoch != j.Epoch {
			t.Errorf("job %d: %s %s epoch %d, want FAILED not-found epoch %d", j.ID, got.State, got.Code, got.Epoch, j.Epoch)
		}
		want := []fulltext.Attempt{att(j, 1), att(j, 2)}
		for i := range want {
			want[i].JobID, want[i].Epoch = j.ID, j.Epoch
		}
		h.wantAttempts(j.ID, want...)
		l := h.ledger(j.ID)
		if len(l) != 1 || l[0].Epoch != j.Epoch || l[0].Op != fulltext.OpHead || l[0].Status != fulltext.OpCompleted {
			t.Errorf("job %d ledger %+v, want one completed HEAD row of epoch %d", j.ID, l, j.Epoch)
		}
	}
}
