package fulltexttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func leaseCases() []jobStoreCase {
	return []jobStoreCase{
		{"Claim/LimitOrderAndLease", testClaimLimitOrder},
		{"Claim/OldestFirst", testClaimOldestFirst},
		{"Claim/RespectsNotBefore", testClaimNotBefore},
		{"Claim/ConcurrentNoDoubleLease", testClaimConcurrent},
		{"Claim/ConcurrentClaimFinish", testClaimFinishConcurrent},
		{"Lease/ExpiredInEveryLeasedState", testLeaseExpiry},
		{"Lease/StaleEpochWritesNothing", testStaleEpoch},
		{"Renew/Extends", testRenew},
		{"Release/DoesNotCountAttempt", testRelease},
	}
}

func testClaimLimitOrder(t *testing.T, h *harness) {
	ws := works("order", 5)
	h.plan(ws...)
	now := h.clock.Now()
	if got := h.claim("w1", 0, time.Minute); len(got) != 0 {
		t.Errorf("Claim(n=0) = %d jobs, want 0", len(got))
	}
	first := h.claim("w1", 2, time.Minute)
	rest := h.claim("w2", 10, 2*time.Minute)
	if len(first) != 2 || len(rest) != 3 {
		t.Fatalf("Claim 2 then 10 of 5 = %d and %d jobs, want 2 and 3", len(first), len(rest))
	}
	for i, j := range append(first, rest...) {
		if j.Work.ID != ws[i].ID {
			t.Errorf("claimed job %d is %s, want %s (oldest first)", i, j.Work.ID, ws[i].ID)
		}
		owner, ttl := "w1", time.Minute
		if i >= 2 {
			owner, ttl = "w2", 2*time.Minute
		}
		if j.State != fulltext.StateLeased || j.Epoch != 1 || j.Attempts != 1 || j.Owner != owner {
			t.Errorf("claimed job %+v: want LEASED, epoch 1, attempts 1, owner %s", j, owner)
		}
		wantTime(t, "LeaseUntil", j.LeaseUntil, now.Add(ttl))
		wantEqual(t, "Lease", j.Lease(), fulltext.Lease{JobID: j.ID, Epoch: 1, Owner: owner, Until: j.LeaseUntil})
		stored := h.get(j.Work.ID)
		if stored.State != fulltext.StateLeased || stored.Epoch != 1 || stored.Attempts != 1 || stored.Owner != owner {
			t.Errorf("stored claimed job %+v: want LEASED, epoch 1, attempts 1, owner %s", stored, owner)
		}
		wantTime(t, "stored LeaseUntil", stored.LeaseUntil, now.Add(ttl))
	}
	if got := h.claim("w3", 10, time.Minute); len(got) != 0 {
		t.Errorf("Claim with every job leased = %d jobs, want 0", len(got))
	}
	if st := h.stats(); st.LiveLeases != 5 || st.ByState[fulltext.StateLeased] != 5 {
		t.Errorf("Stats live leases %d leased %d, want 5 and 5", st.LiveLeases, st.ByState[fulltext.StateLeased])
	}
}

func testClaimOldestFirst(t *testing.T, h *harness) {
	old := works("old", 2)
	h.plan(old[0])
	h.clock.Advance(time.Second)
	h.plan(works("young", 1)...)
	h.clock.Advance(time.Second)
	h.plan(old[1]) // planned last, so youngest
	got := h.claim("w", 3, time.Hour)
	want := []string{"10.5555/old.0", "10.5555/young.0", "10.5555/old.1"}
	for i := range got {
		if got[i].Work.ID.Value != want[i] {
			t.Errorf("claim %d = %s, want %s", i, got[i].Work.ID.Value, want[i])
		}
	}
	// A job retried with a not_before comes back after jobs due earlier.
	h.finish(got[0].Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
		Code: fulltext.CodeServerError, NotBefore: h.clock.Now().Add(time.Second)})
	h.plan(works("later", 1)...)
	h.clock.Advance(time.Minute)
	again := h.claim("w", 2, time.Minute)
	if len(again) != 2 || again[0].Work.ID.Value != "10.5555/later.0" || again[1].Work.ID.Value != "10.5555/old.0" {
		t.Errorf("claim after retry = %v, want later.0 (due first) then old.0", jobIDs(again))
	}
}

func jobIDs(jobs []fulltext.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Work.ID.String()
	}
	return out
}

func testClaimNotBefore(t *testing.T, h *harness) {
	j := h.planClaim("nb", time.Minute)
	due := h.clock.Now().Add(time.Hour)
	h.finish(j.Lease(), fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry,
		Code: fulltext.CodeRateLimited, Detail: "429", NotBefore: due})
	h.clock.Advance(59 * time.Minute)
	if got := h.claim("w", 5, time.Minute); len(got) != 0 {
		t.Fatalf("Claim before not_before = %d jobs, want 0", len(got))
	}
	h.clock.Advance(time.Minute)
	again := h.claimOne("w", time.Minute)
	if again.ID != j.ID || again.Epoch != 2 || again.Attempts != 2 {
		t.Errorf("Claim at not_before = job %d epoch %d attempts %d, want job %d epoch 2 attempts 2",
			again.ID, again.Epoch, again.Attempts, j.ID)
	}
}

func testClaimConcurrent(t *testing.T, h *harness) {
	const n, claimers = 300, 6
	h.plan(works("cc", n)...)
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
	)
	err := collect(t.Context(), claimers, func(ctx context.Context, i int) error {
		for round := 0; ; round++ {
			jobs, err := h.s.Claim(ctx, fmt.Sprintf("w%d", i), 1+(i+round)%7, time.Hour)
			if err != nil {
				return err
			}
			if len(jobs) == 0 {
				return nil
			}
			mu.Lock()
			for _, j := range jobs {
				seen[j.ID]++
				if j.Epoch != 1 || j.Attempts != 1 {
					mu.Unlock()
					return fmt.Errorf("job %d claimed with epoch %d attempts %d, want 1 and 1", j.ID, j.Epoch, j.Attempts)
				}
			}
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("concurrent Claim: %v", err)
	}
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %d leased %d times while its lease was live", id, c)
		}
	}
	if st := h.stats(); st.LiveLeases != n {
		t.Errorf("Stats.LiveLeases = %d, want %d", st.LiveLeases, n)
	}
}

func testClaimFinishConcurrent(t *testing.T, h *harness) {
	const n, workers = 120, 4
	h.plan(works("cf", n)...)
	err := collect(t.Context(), workers, func(ctx context.Context, i int) error {
		for {
			jobs, err := h.s.Claim(ctx, fmt.Sprintf("w%d", i), 1+i%3, time.Hour)
			if err != nil || len(jobs) == 0 {
				return err
			}
			for _, j := range jobs {
				err := h.s.Finish(ctx, j.Lease(), fulltext.Finish{State: fulltext.StateFinalized,
					Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
					Result: &fulltext.Result{Kind: fulltext.KindPDF, Source: "arxiv", SHA256: "ab"}})
				if err != nil {
					return err
				}
			}
		}
	})
	if err != nil {
		t.Fatalf("concurrent claim and finish: %v", err)
	}
	st := h.stats()
	if st.ByState[fulltext.StateFinalized] != n || st.BySourceOK["arxiv"] != n || st.LiveLeases != 0 {
		t.Errorf("Stats finalized %d arxiv %d live %d, want %d, %d, 0",
			st.ByState[fulltext.StateFinalized], st.BySourceOK["arxiv"], st.LiveLeases, n, n)
	}
	err = h.s.Each(t.Context(), func(j fulltext.Job) error {
		if j.Epoch != 1 || j.Attempts != 1 {
			t.Errorf("job %d epoch %d attempts %d, want 1 and 1", j.ID, j.Epoch, j.Attempts)
		}
		if c := countFinalize(h.ledger(j.ID)); c != 1 {
			t.Errorf("job %d has %d completed FINALIZE rows, want 1", j.ID, c)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
}

func testLeaseExpiry(t *testing.T, h *harness) {
	// Each leased state and the steps that reach it from LEASED.
	paths := map[fulltext.JobState][]fulltext.Step{
		fulltext.StateLeased:   nil,
		fulltext.StateHeadDone: {{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone}},
		fulltext.StateResumeOK: {
			{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone},
			{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateResumeOK},
		},
		fulltext.StateStreaming: {{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming}},
	}
	for state, steps := range paths {
		h.plan(works(string(state), 1)...)
		j := h.claimOne("old", time.Minute)
		for _, s := range steps {
			h.step(j.Lease(), s)
		}
		if got := h.get(j.Work.ID); got.State != state {
			t.Fatalf("job in %s, want %s", got.State, state)
		}
		h.clock.Advance(59 * time.Second)
		if got := h.claim("new", 5, time.Minute); len(got) != 0 {
			t.Fatalf("%s: Claim while the lease is live = %d jobs, want 0", state, len(got))
		}
		h.clock.Advance(time.Second)
		again := h.claimOne("new", time.Minute)
		if again.ID != j.ID || again.State != fulltext.StateLeased || again.Epoch != 2 ||
			again.Attempts != 2 || again.Owner != "new" {
			t.Errorf("%s: re-claim after expiry = %+v, want job %d LEASED epoch 2 attempts 2 owner new", state, again, j.ID)
		}
		h.assertFenced(j.Lease())
		h.finalize(again.Lease(), "pmc") // out of the way of the next state's claim
	}
}

func testStaleEpoch(t *testing.T, h *harness) {
	j := h.planClaim("stale", time.Minute)
	h.clock.Advance(2 * time.Minute)
	cur := h.claimOne("new", time.Hour)
	before := h.get(j.Work.ID)
	h.assertFenced(j.Lease())
	after := h.get(j.Work.ID)
	wantEqual(t, "job after stale writes", after, before)
	if l := h.ledger(j.ID); len(l) != 0 {
		t.Errorf("stale writes left ledger rows %+v", l)
	}
	if a, err := h.s.Attempts(t.Context(), j.ID); err != nil || len(a) != 0 {
		t.Errorf("stale writes left attempts %+v (%v)", a, err)
	}
	// A lease of an unknown job is no lease either.
	h.assertFenced(fulltext.Lease{JobID: cur.ID + 1000, Epoch: 1})
	// The current holder still writes.
	h.step(cur.Lease(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted})
}

func testRenew(t *testing.T, h *harness) {
	j := h.planClaim("renew", time.Minute)
	h.clock.Advance(50 * time.Second)
	until, err := h.s.Renew(t.Context(), j.Lease(), time.Minute)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	want := h.clock.Now().Add(time.Minute)
	wantTime(t, "Renew expiry", until, want)
	wantTime(t, "stored LeaseUntil", h.get(j.Work.ID).LeaseUntil, want)
	h.clock.Advance(50 * time.Second) // past the first expiry, before the renewed one
	if got := h.claim("other", 1, time.Minute); len(got) != 0 {
		t.Fatalf("Claim of a renewed lease = %d jobs, want 0", len(got))
	}
	h.clock.Advance(10 * time.Second)
	if got := h.claimOne("other", time.Minute); got.ID != j.ID || got.Epoch != 2 {
		t.Errorf("Claim after the renewed lease expired = job %d epoch %d, want job %d epoch 2", got.ID, got.Epoch, j.ID)
	}
	_, err = h.s.Renew(t.Context(), j.Lease(), time.Minute)
	wantErr(t, "Renew after re-claim", err, fulltext.ErrLeaseLost)
}

func testRelease(t *testing.T, h *harness) {
	j := h.planClaim("release", time.Hour)
	if err := h.s.Release(t.Context(), j.Lease()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	got := h.get(j.Work.ID)
	if got.State != fulltext.StatePlanned || got.Attempts != 0 {
		t.Errorf("released job %s attempts %d, want PLANNED attempts 0", got.State, got.Attempts)
	}
	if st := h.stats(); st.LiveLeases != 0 {
		t.Errorf("Stats.LiveLeases = %d after Release, want 0", st.LiveLeases)
	}
	again := h.claimOne("w2", time.Hour)
	if again.ID != j.ID || again.Epoch != 2 || again.Attempts != 1 {
		t.Errorf("re-claim after Release = job %d epoch %d attempts %d, want job %d epoch 2 attempts 1",
			again.ID, again.Epoch, again.Attempts, j.ID)
	}
	wantErr(t, "Release twice", h.s.Release(t.Context(), j.Lease()), fulltext.ErrLeaseLost)
}
