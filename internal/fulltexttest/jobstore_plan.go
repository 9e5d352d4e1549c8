package fulltexttest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func planCases() []jobStoreCase {
	return []jobStoreCase{
		{"Plan/CreatesPlannedJobs", testPlanCreates},
		{"Plan/IdempotentWithinAndAcrossBatches", testPlanIdempotent},
		{"Plan/ConcurrentSameWorks", testPlanConcurrent},
		{"Plan/CancelledContextWritesNothing", testPlanCancelled},
		{"Plan/WorkRoundTrip", testWorkRoundTrip},
		{"Get/NotFound", testGetNotFound},
		{"Each/IDOrderAndStop", testEach},
		{"Meta/GetSet", testMeta},
	}
}

func testPlanCreates(t *testing.T, h *harness) {
	ws := works("create", 3)
	wantEqual(t, "Plan", h.plan(ws...), fulltext.PlanResult{Created: 3})
	now := h.clock.Now()
	var ids []int64
	for _, w := range ws {
		j := h.get(w.ID)
		ids = append(ids, j.ID)
		wantEqual(t, "Key", j.Key, w.Key())
		wantEqual(t, "Work", j.Work, w)
		wantEqual(t, "State", j.State, fulltext.StatePlanned)
		if j.Epoch != 0 || j.Attempts != 0 || j.Owner != "" || !j.LeaseUntil.IsZero() || j.Result != nil {
			t.Errorf("fresh job %+v: want epoch 0, attempts 0, no owner, lease or result", j)
		}
		if j.Outcome != "" || j.Code != "" {
			t.Errorf("fresh job outcome %q code %q, want none", j.Outcome, j.Code)
		}
		wantTime(t, "CreatedAt", j.CreatedAt, now)
		wantTime(t, "UpdatedAt", j.UpdatedAt, now)
		if j.NotBefore.After(now) {
			t.Errorf("NotBefore %v after now %v: a fresh job must be due", j.NotBefore, now)
		}
	}
	if ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Errorf("job ids %v do not increase in plan order", ids)
	}
	if st := h.stats(); st.Total != 3 || st.ByState[fulltext.StatePlanned] != 3 {
		t.Errorf("Stats total %d planned %d, want 3 and 3", st.Total, st.ByState[fulltext.StatePlanned])
	}
}

func testPlanIdempotent(t *testing.T, h *harness) {
	ws := works("idem", 4)
	a, b, c, d := ws[0], ws[1], ws[2], ws[3]
	wantEqual(t, "Plan with duplicates", h.plan(a, b, a, c, b), fulltext.PlanResult{Created: 3, Existing: 2})
	wantEqual(t, "re-Plan", h.plan(a, b, c), fulltext.PlanResult{Created: 0, Existing: 3})
	wantEqual(t, "Plan one new", h.plan(c, d, a), fulltext.PlanResult{Created: 1, Existing: 2})
	wantEqual(t, "Plan nothing", h.plan(), fulltext.PlanResult{})
	if st := h.stats(); st.Total != 4 {
		t.Errorf("Stats.Total = %d, want 4", st.Total)
	}
	// A re-plan does not disturb a job in progress.
	j := h.claimOne("w", time.Minute)
	h.plan(a, b, c, d)
	if got := h.get(j.Work.ID); got.State != fulltext.StateLeased || got.Epoch != j.Epoch {
		t.Errorf("after re-plan the leased job is %s epoch %d, want LEASED epoch %d", got.State, got.Epoch, j.Epoch)
	}
}

func testPlanConcurrent(t *testing.T, h *harness) {
	const n, planners = 2000, 4
	ws := works("conc", n)
	results := make([]fulltext.PlanResult, planners)
	err := collect(t.Context(), planners, func(ctx context.Context, i int) error {
		r, err := h.s.Plan(ctx, ws)
		results[i] = r
		return err
	})
	if err != nil {
		t.Fatalf("concurrent Plan: %v", err)
	}
	created, existing := 0, 0
	for _, r := range results {
		created += r.Created
		existing += r.Existing
	}
	if created != n || existing != n*(planners-1) {
		t.Errorf("concurrent Plan created %d existing %d, want %d and %d", created, existing, n, n*(planners-1))
	}
	if st := h.stats(); st.Total != n || st.ByState[fulltext.StatePlanned] != n {
		t.Errorf("Stats total %d planned %d, want %d", st.Total, st.ByState[fulltext.StatePlanned], n)
	}
}

func testPlanCancelled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.s.Plan(ctx, works("cancel", 3)); err == nil {
		t.Errorf("Plan with a cancelled context succeeded")
	}
	if st := h.stats(); st.Total != 0 {
		t.Errorf("Stats.Total = %d after a cancelled Plan, want 0", st.Total)
	}
}

func testWorkRoundTrip(t *testing.T, h *harness) {
	full := fulltext.Work{
		ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/jsim.2021.0042"},
		IDs: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001",
			ArXiv: "2101.00001", OpenAlex: "W9990000001"},
		Title: "Über \"quoted\" <b>titles</b> — and ☃",
		Year:  2021,
		// Spacing, key order and escapes must survive byte for byte.
		Record: json.RawMessage(`{"id": "https://openalex.org/W9990000001",  "b":[1, 2.50],"a":"\u00e9"}`),
	}
	bare := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindOpenAlex, Value: "W1"}}
	arxiv := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindArXiv, Value: "math/0309999"},
		IDs: fulltext.IDs{ArXiv: "math/0309999"}}
	h.plan(full, bare, arxiv)
	for _, w := range []fulltext.Work{full, bare, arxiv} {
		got := h.get(w.ID).Work
		if string(got.Record) != string(w.Record) {
			t.Errorf("Record of %s = %s, want %s", w.ID, got.Record, w.Record)
		}
		got.Record, w.Record = nil, nil
		wantEqual(t, "Work "+w.ID.String(), got, w)
	}
}

func testGetNotFound(t *testing.T, h *harness) {
	h.plan(works("known", 1)...)
	_, err := h.s.Get(t.Context(), fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/unknown"})
	wantErr(t, "Get unknown", err, fulltext.ErrNotFound)
}

func testEach(t *testing.T, h *harness) {
	const n = 1205 // crosses page boundaries of paging implementations
	ws := works("each", n)
	h.plan(ws...)
	var seen []fulltext.Job
	err := h.s.Each(t.Context(), func(j fulltext.Job) error {
		seen = append(seen, j)
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	if len(seen) != n {
		t.Fatalf("Each visited %d jobs, want %d", len(seen), n)
	}
	for i, j := range seen {
		if i > 0 && j.ID <= seen[i-1].ID {
			t.Fatalf("Each: job %d after job %d, want increasing ids", j.ID, seen[i-1].ID)
		}
		if j.Work.ID != ws[i].ID {
			t.Fatalf("Each: job %d is %s, want %s (plan order)", i, j.Work.ID, ws[i].ID)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = h.s.Each(t.Context(), func(fulltext.Job) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	wantErr(t, "Each stopped by fn", err, stop)
	if calls != 3 {
		t.Errorf("Each called fn %d times after it failed on the 3rd, want 3", calls)
	}
}

func testMeta(t *testing.T, h *harness) {
	ctx := t.Context()
	if v, ok, err := h.s.GetMeta(ctx, "cursor"); err != nil || ok || v != "" {
		t.Errorf("GetMeta(unset) = %q, %v, %v; want \"\", false, nil", v, ok, err)
	}
	for _, v := range []string{"abc", "", "next=é&x"} {
		if err := h.s.SetMeta(ctx, "cursor", v); err != nil {
			t.Fatalf("SetMeta: %v", err)
		}
		got, ok, err := h.s.GetMeta(ctx, "cursor")
		if err != nil || !ok || got != v {
			t.Errorf("GetMeta after SetMeta(%q) = %q, %v, %v", v, got, ok, err)
		}
	}
	if err := h.s.SetMeta(ctx, "other", "1"); err != nil {
		t.Fatalf("SetMeta: %v", err)
	}
	if v, _, _ := h.s.GetMeta(ctx, "cursor"); v != "next=é&x" {
		t.Errorf("GetMeta(cursor) = %q after setting another key", v)
	}
}
