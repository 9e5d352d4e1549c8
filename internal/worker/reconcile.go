package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Reconcile repairs what crashed holders left behind: expired leases become
// claimable again (with an epoch bump that fences the old holder out), jobs
// that used up their attempts fail, and temp artifacts of leases that are no
// longer live are removed (a live lease's temp is never touched). It is
// idempotent and safe to run in several processes at once.
func Reconcile(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore, log *slog.Logger) ([]fulltext.Recovery, error) {
	recs, err := store.Reconcile(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile job store: %w", err)
	}
	if arts != nil {
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
			if err := arts.RemoveTemp(ctx, t.Name); err != nil {
				return recs, fmt.Errorf("reconcile temp %s: %w", t.Name, err)
			}
			recs = append(recs, fulltext.Recovery{JobID: t.JobID, Action: "temp_removed", Detail: t.Name})
		}
	}
	for _, r := range recs {
		log.Info("crash_recovery", "action", r.Action, "job", r.JobID, "work", r.WorkID, "detail", r.Detail)
	}
	return recs, nil
}
