package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

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

// TestReconcileCheckpointedTemp: the temp of a crashed transfer (its lease
// expired) with a valid checkpoint becomes the kept prefix of its job, cut
// at the checkpoint; a dead temp without a checkpoint is removed as before.
func TestReconcileCheckpointedTemp(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	ctx := t.Context()
	var works []fulltext.Work
	for _, id := range []string{"10.5555/ckpt.1", "10.5555/ckpt.2"} {
		w, err := fulltext.ParseWork(id)
		if err != nil {
			t.Fatal(err)
		}
		works = append(works, w)
	}
	if _, err := b.store.Plan(ctx, works); err != nil {
		t.Fatal(err)
	}
	b.claim(t, b.work.ID) // the bundle's own work, not used here
	crashed := b.claimFor(t, works[0].ID, ttl)
	plain := b.claimFor(t, works[1].ID, ttl)
	k := fulltext.ResumeKey{JobID: crashed.ID, URL: "https://pub.example/big.pdf"}
	tmp, err := b.arts.Create(ctx, crashed.Lease())
	if err != nil {
		t.Fatal(err)
	}
	half := len(b.pdf) / 2
	if _, err := tmp.Write(b.pdf[:half]); err != nil {
		t.Fatal(err)
	}
	if err := tmp.(fulltext.Checkpointer).Checkpoint(ctx, k, fulltext.ResumeInfo{Validator: `"v"`, Total: int64(len(b.pdf))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(b.pdf[half : half+10]); err != nil { // past the checkpoint: not trusted
		t.Fatal(err)
	}
	plainTemp := b.temp(t, plain.Lease())
	b.clock.Advance(2 * ttl) // both holders crashed

	recs, err := worker.Reconcile(ctx, b.store, b.arts, b.log)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string][]int64{}
	for _, r := range recs {
		actions[r.Action] = append(actions[r.Action], r.JobID)
	}
	if got := actions[worker.ActionTempKept]; !slices.Equal(got, []int64{crashed.ID}) {
		t.Errorf("temp_kept for jobs %v, want [%d] (recoveries %+v)", got, crashed.ID, recs)
	}
	if got := actions[worker.ActionTempRemoved]; !slices.Contains(got, plain.ID) || slices.Contains(got, crashed.ID) {
		t.Errorf("temp_removed for jobs %v, want %d (%s) and not %d", got, plain.ID, plainTemp, crashed.ID)
	}
	if temps, err := b.arts.Temps(ctx); err != nil || len(temps) != 0 {
		t.Errorf("temps after reconcile = %v, %v", temps, err)
	}
	prefix, info, found, err := b.arts.Adopt(ctx, k)
	if err != nil || !found || info.Offset != int64(half) {
		t.Fatalf("Adopt = %+v %v %v, want the %d checkpointed bytes", info, found, err, half)
	}
	_ = prefix.Close()
	// Idempotent: a second reconciler finds nothing more to do with it.
	again, err := worker.Reconcile(ctx, b.store, b.arts, b.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if r.Action == worker.ActionTempKept || r.Action == worker.ActionKeptRemoved {
			t.Errorf("second reconcile: %+v", r)
		}
	}
}

// TestPoolLeavesCheckpointedTemps: the pool's periodic reconcile removes a
// dead temp without a checkpoint but leaves one with a checkpoint to the
// job's next claim (which recovers it before adopting it) or the next full
// Reconcile.
func TestPoolLeavesCheckpointedTemps(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	b.finishSetupWork(t)
	ctx := t.Context()
	// Job 1 is finished: neither lease is live. Epoch 1 sorts first, so
	// the pass that removes the plain temp has looked at it already.
	tmp, err := b.arts.Create(ctx, fulltext.Lease{JobID: 1, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(b.pdf[:200]); err != nil {
		t.Fatal(err)
	}
	k := fulltext.ResumeKey{JobID: 1, URL: "https://pub.example/big.pdf"}
	if err := tmp.(fulltext.Checkpointer).Checkpoint(ctx, k, fulltext.ResumeInfo{Validator: `"v"`, Total: int64(len(b.pdf))}); err != nil {
		t.Fatal(err)
	}
	plain := b.temp(t, fulltext.Lease{JobID: 1, Epoch: 2})
	events := make(chan string, 16)
	log := slog.New(signalHandler{Handler: slog.NewTextHandler(b.logs, nil), events: events})
	pool := worker.New(worker.Config{Workers: 1, LeaseTTL: ttl, Clock: b.clock, Logger: log, ReconcileEvery: 5 * time.Millisecond, Follow: true},
		b.store, b.arts, nil, nil, nil)
	stop, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pool.Run(ctx, stop) }()
	select {
	case action := <-events:
		if action != worker.ActionTempRemoved {
			t.Errorf("crash_recovery action %q, want %s", action, worker.ActionTempRemoved)
		}
	case <-ctx.Done():
		t.Fatal("the pool never reconciled")
	}
	cancel()
	if err := <-done; !errors.Is(err, worker.ErrStopped) {
		t.Errorf("Run = %v, want ErrStopped", err)
	}
	_, temps := b.artifacts(t)
	names := map[string]bool{}
	for _, tt := range temps {
		names[tt.Name] = true
	}
	if names[plain] || !names[tmp.Name()] {
		t.Errorf("temps after the periodic reconcile: %v; want %s gone and %s kept", temps, plain, tmp.Name())
	}
	// The full Reconcile recovers it; its job being finished, it then
	// drops the prefix.
	recs, err := worker.Reconcile(ctx, b.store, b.arts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if !slices.Contains(actions, worker.ActionTempKept) || !slices.Contains(actions, worker.ActionKeptRemoved) {
		t.Errorf("full reconcile actions %v, want %s and %s", actions, worker.ActionTempKept, worker.ActionKeptRemoved)
	}
	if jobs, _ := b.arts.KeptJobs(ctx); len(jobs) != 0 {
		t.Errorf("kept prefixes of a finished job left: %v", jobs)
	}
}
