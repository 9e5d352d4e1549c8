package worker_test

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/worker"
)

// TestReconcileKeptPrefixes: the prefix an interrupted transfer kept for a
// later attempt survives the reconciler while its job still has to run —
// also when the job's lease expired (the crash case) — and is removed once
// the job is terminal.
func TestReconcileKeptPrefixes(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	ctx := t.Context()
	done := b.claim(t, b.work.ID)
	b.finishJob(t, done)
	w, err := fulltext.ParseWork("10.5555/kept.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Plan(ctx, []fulltext.Work{w}); err != nil {
		t.Fatal(err)
	}
	running := b.claimFor(t, w.ID, ttl)
	keep := func(l fulltext.Lease) {
		t.Helper()
		tmp, err := b.arts.Create(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(b.pdf[:100]); err != nil {
			t.Fatal(err)
		}
		k := fulltext.ResumeKey{JobID: l.JobID, URL: "https://pub.example/a.pdf"}
		if err := b.arts.Keep(ctx, tmp, k, fulltext.ResumeInfo{Validator: `"v"`, Total: int64(len(b.pdf))}); err != nil {
			t.Fatal(err)
		}
	}
	keep(done.Lease())
	keep(running.Lease())
	b.clock.Advance(2 * ttl) // the running job's lease expires: a crashed holder

	recs, err := worker.Reconcile(ctx, b.store, b.arts, b.log)
	if err != nil {
		t.Fatal(err)
	}
	var removed []int64
	for _, r := range recs {
		if r.Action == worker.ActionKeptRemoved {
			removed = append(removed, r.JobID)
		}
	}
	if !slices.Equal(removed, []int64{done.ID}) {
		t.Errorf("kept prefixes removed for jobs %v, want only the finished %d (recoveries %+v)", removed, done.ID, recs)
	}
	jobs, err := b.arts.KeptJobs(ctx)
	if err != nil || !slices.Equal(jobs, []int64{running.ID}) {
		t.Fatalf("kept jobs after reconcile = %v, %v; want [%d]", jobs, err, running.ID)
	}
	if s := b.jobOf(t, w.ID).State; s != fulltext.StatePlanned {
		t.Fatalf("running job is %s, want PLANNED after its lease expired", s)
	}
	prefix, info, found, err := b.arts.Adopt(ctx, fulltext.ResumeKey{JobID: running.ID, URL: "https://pub.example/a.pdf"})
	if err != nil || !found || info.Offset != 100 {
		t.Fatalf("Adopt = %+v %v %v, want the 100 kept bytes", info, found, err)
	}
	_ = prefix.Close()
}

func (b *bundle) finishJob(t *testing.T, j fulltext.Job) {
	t.Helper()
	if err := b.store.Finish(t.Context(), j.Lease(), fulltext.Finish{
		State: fulltext.StateFailed, Outcome: fulltext.OutcomeAbsent, Code: fulltext.CodeNotFound,
	}); err != nil {
		t.Fatal(err)
	}
}
