package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Recovery actions reported by the reconciler besides the job store's own
// ("lease_expired", "attempts_exhausted").
const (
	ActionTempRemoved     = "temp_removed"
	ActionArtifactMissing = "artifact_missing"
	ActionArtifactCorrupt = "artifact_corrupt"
	ActionOrphanArtifact  = "orphan_artifact"
	ActionKeptRemoved     = "kept_removed"
	// ActionTempKept: the temp of a dead lease had a valid checkpoint and
	// became the kept prefix of its job (fulltext.CheckpointStore).
	ActionTempKept = "temp_kept"
)

// Reconcile repairs what crashed holders left behind. It runs at the start
// of pull and work; every action is logged as a crash_recovery event and
// returned:
//
//   - expired leases become claimable again, with an epoch bump that fences
//     the old holder out (JobStore.Reconcile); jobs that used up their
//     attempts fail;
//   - temp artifacts whose lease is no longer live are removed (a live
//     lease's temp is never touched: temp names embed job and epoch) —
//     unless the store is a fulltext.CheckpointStore and the temp has a
//     valid checkpoint: then its checkpointed bytes become the kept prefix
//     of the job (the transfer was interrupted by a crash), which the
//     job's next attempt adopts;
//   - FINALIZED and DEDUPED jobs whose artifact is missing, or whose size
//     differs from the recorded one, are re-planned (JobStore.Requeue). This
//     is a Stat per artifact; the full sha256 check is `oafetch verify`;
//   - prefixes of interrupted transfers kept for a later attempt
//     (fulltext.ResumableStore) are removed once their job is terminal or
//     unknown; those of jobs still to run are kept;
//   - committed artifacts that no job refers to are reported, not removed
//     (`oafetch verify --repair` removes them). An artifact whose job is not
//     terminal is not an orphan: the crash came between the artifact commit
//     and the FINALIZE, and the replay finalizes it.
//
// Operations a crashed holder started and never finished need no action
// here: the next claim replays them through the normal path.
//
// Reconcile is idempotent and safe to run in several processes at once:
// the job store's part runs in one transaction, a temp or job another
// reconciler already handled is skipped silently, and nothing is removed
// that a live lease may still use. arts may be nil (job store only).
func Reconcile(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore, log *slog.Logger) ([]fulltext.Recovery, error) {
	recs, err := reconcileLeases(ctx, store, arts, false)
	if err == nil && arts != nil {
		var more []fulltext.Recovery
		more, err = reconcileArtifacts(ctx, store, arts)
		recs = append(recs, more...)
	}
	logRecoveries(log, recs)
	return recs, err
}

// reconcileLeases is the cheap part of Reconcile, also run by the Pool on
// its timer (periodic): expired leases and the temps of dead leases. The
// periodic run leaves a dead temp with a checkpoint alone: the lease it
// finds dead has usually just expired, so the job is being claimed again
// right now, and that claim recovers the temp itself before it adopts it
// (a recovery here could be half done when the claim asks for the prefix,
// which would then be fetched from zero). The next full Reconcile recovers
// what no claim took.
func reconcileLeases(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore, periodic bool) ([]fulltext.Recovery, error) {
	recs, err := store.Reconcile(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile job store: %w", err)
	}
	if arts == nil {
		return recs, nil
	}
	temps, err := arts.Temps(ctx)
	if err != nil {
		return recs, fmt.Errorf("reconcile temps: %w", err)
	}
	for _, t := range temps {
		live, err := store.LeaseLive(ctx, fulltext.Lease{JobID: t.JobID, Epoch: t.Epoch})
		if err != nil {
			return recs, fmt.Errorf("reconcile temp %s: %w", t.Name, err)
		}
		if live {
			continue
		}
		if cs, ok := arts.(fulltext.CheckpointStore); ok {
			handled, rec, err := checkpointedTemp(ctx, cs, t, periodic)
			if err != nil {
				return recs, fmt.Errorf("reconcile temp %s: %w", t.Name, err)
			}
			if rec != nil {
				recs = append(recs, *rec)
			}
			if handled {
				continue
			}
		}
		if err := arts.RemoveTemp(ctx, t.Name); err != nil {
			if errors.Is(err, fulltext.ErrNotFound) {
				continue // committed, aborted, or removed by another reconciler
			}
			return recs, fmt.Errorf("reconcile temp %s: %w", t.Name, err)
		}
		recs = append(recs, fulltext.Recovery{JobID: t.JobID, Action: ActionTempRemoved, Detail: t.Name})
	}
	return recs, nil
}

// checkpointedTemp deals with the dead temp t of a store with checkpoints:
// a periodic run leaves it alone when it has a checkpoint; a full run
// turns a valid checkpoint into a kept prefix (and returns the recovery).
// handled is false when the temp is still to be removed.
func checkpointedTemp(ctx context.Context, cs fulltext.CheckpointStore, t fulltext.TempInfo, periodic bool) (handled bool, rec *fulltext.Recovery, err error) {
	if periodic {
		has, err := cs.HasCheckpoint(ctx, t.Name)
		return has, nil, err
	}
	k, info, kept, err := cs.RecoverTemp(ctx, t.Name)
	switch {
	case errors.Is(err, fulltext.ErrNotFound):
		return true, nil, nil // committed, aborted, or handled by another reconciler
	case err != nil:
		return false, nil, err
	case !kept:
		return false, nil, nil
	}
	return true, &fulltext.Recovery{JobID: t.JobID, Action: ActionTempKept,
		Detail: fmt.Sprintf("%s: %d of %d bytes of %s", t.Name, info.Offset, info.Total, k.URL)}, nil
}

// reconcileArtifacts re-plans finished jobs whose artifact is gone or of the
// wrong size and reports artifacts no job refers to. The artifact walk comes
// first, so that a job finalized during the walk is seen by the job scan and
// its artifact is not reported as an orphan.
func reconcileArtifacts(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore) ([]fulltext.Recovery, error) {
	stored := map[string]bool{}
	if err := arts.Walk(ctx, func(p string, _ int64) error {
		stored[p] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reconcile artifacts: walk: %w", err)
	}
	// Jobs with kept prefixes, listed before the scan so that only they are
	// remembered (not every job still to run: memory stays flat in the
	// number of jobs). A prefix kept during the scan waits for the next run.
	var kept []int64
	rs, resumable := arts.(fulltext.ResumableStore)
	if resumable {
		var err error
		if kept, err = rs.KeptJobs(ctx); err != nil {
			return nil, fmt.Errorf("reconcile artifacts: %w", err)
		}
	}
	running := make(map[int64]bool, len(kept)) // jobs with kept prefixes: true while not terminal
	for _, id := range kept {
		running[id] = false
	}
	var (
		recs   []fulltext.Recovery
		broken []fulltext.Recovery
	)
	err := store.Each(ctx, func(j fulltext.Job) error {
		if !j.State.Terminal() {
			if _, ok := running[j.ID]; ok {
				running[j.ID] = true
			}
			// In flight or to be replayed: whatever it committed is its own.
			for _, k := range []fulltext.Kind{fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML} {
				delete(stored, fulltext.ArtifactPath(j.Work.ID, k))
			}
			return nil
		}
		if j.Result == nil || j.Result.Path == "" {
			return nil
		}
		delete(stored, j.Result.Path)
		if j.State != fulltext.StateFinalized && j.State != fulltext.StateDeduped && j.State != fulltext.StateIndexed {
			return nil
		}
		size, err := arts.Stat(ctx, j.Result.Path)
		switch {
		case errors.Is(err, fulltext.ErrNotFound):
			broken = append(broken, fulltext.Recovery{JobID: j.ID, WorkID: j.Work.ID.String(), Action: ActionArtifactMissing,
				Detail: j.Result.Path})
		case err != nil:
			return fmt.Errorf("stat %s: %w", j.Result.Path, err)
		case size != j.Result.Bytes:
			broken = append(broken, fulltext.Recovery{JobID: j.ID, WorkID: j.Work.ID.String(), Action: ActionArtifactCorrupt,
				Detail: fmt.Sprintf("%s: %d bytes, %d recorded", j.Result.Path, size, j.Result.Bytes)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile artifacts: %w", err)
	}
	if resumable {
		for _, id := range kept {
			if running[id] {
				continue
			}
			if err := rs.DropKept(ctx, fulltext.ResumeKey{JobID: id}); err != nil {
				return nil, fmt.Errorf("reconcile artifacts: %w", err)
			}
			recs = append(recs, fulltext.Recovery{JobID: id, Action: ActionKeptRemoved, Detail: "kept prefixes of a finished job"})
		}
	}
	for _, b := range broken {
		err := store.Requeue(ctx, b.JobID, b.Action+": "+b.Detail)
		if errors.Is(err, fulltext.ErrBadTransition) || errors.Is(err, fulltext.ErrNotFound) {
			continue // another reconciler re-planned it first
		}
		if err != nil {
			return recs, fmt.Errorf("reconcile artifacts: %w", err)
		}
		recs = append(recs, b)
	}
	for p := range stored {
		recs = append(recs, fulltext.Recovery{Action: ActionOrphanArtifact, Detail: p})
	}
	return recs, nil
}

func logRecoveries(log *slog.Logger, recs []fulltext.Recovery) {
	if log == nil {
		return
	}
	for _, r := range recs {
		log.Info("crash_recovery", "action", r.Action, "job", r.JobID, "work", r.WorkID, "detail", r.Detail)
	}
}

// reconcileLoop runs reconcileLeases every d until ctx ends. Errors are
// logged: a failed round is retried at the next tick, and the claim query
// also takes over expired leases on its own.
func (p *Pool) reconcileLoop(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		recs, err := reconcileLeases(ctx, p.store, p.artifacts, true)
		logRecoveries(p.log, recs)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("reconcile failed", "err", err)
		}
	}
}
