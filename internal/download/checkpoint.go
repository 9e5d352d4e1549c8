package download

import (
	"context"
	"fmt"
	"time"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// Checkpoints. While a resumable body streams into a temp that is a
// fulltext.Checkpointer, the temp is checkpointed every CheckpointBytes
// bytes (or every CheckpointInterval, once MinCheckpointBytes arrived
// since the last one): its bytes so far are made durable and recorded as
// the prefix of (job, candidate URL) with the response's validator and
// length. A process killed mid-body then leaves a temp that the reconciler
// turns into the job's kept prefix (fulltext.CheckpointStore.RecoverTemp),
// which the next attempt adopts like any kept prefix (keep.go). A failed
// checkpoint ends checkpointing for this body; the download goes on.

// checkpoints is the checkpoint state of one streamed body.
type checkpoints struct {
	r      *run
	cp     fulltext.Checkpointer
	info   fulltext.ResumeInfo
	last   int64 // offset of the last checkpoint
	lastAt time.Time
}

// checkpointer returns the checkpoint state for a body streaming into tmp,
// or nil when there is nothing to checkpoint: checkpoints disabled, a temp
// without them, a body that cannot be resumed, or one too small to matter.
func (r *run) checkpointer(tmp fulltext.TempArtifact) *checkpoints {
	cfg := r.d.cfg
	cp, ok := tmp.(fulltext.Checkpointer)
	if !ok || cfg.CheckpointBytes < 0 || !r.resume.ok || r.resume.total <= MinCheckpointBytes {
		return nil
	}
	return &checkpoints{r: r, cp: cp, info: fulltext.ResumeInfo{Validator: r.resume.validator, Total: r.resume.total}, lastAt: cfg.Clock.Now()}
}

// maybe checkpoints the temp when n bytes were written and one is due. It
// returns an error only from the after-checkpoint failpoint.
func (c *checkpoints) maybe(n int64) error {
	cfg := c.r.d.cfg
	if n >= c.info.Total {
		return nil // complete: the commit is next
	}
	since := n - c.last
	due := since >= cfg.CheckpointBytes
	if !due && cfg.CheckpointInterval > 0 && since >= MinCheckpointBytes {
		due = cfg.Clock.Now().Sub(c.lastAt) >= cfg.CheckpointInterval
	}
	if !due {
		return nil
	}
	// The fsync's time is not the server's stall.
	c.r.x.wd.stop()
	defer c.r.x.wd.kick()
	if err := c.cp.Checkpoint(context.WithoutCancel(c.r.parent), c.r.key, c.info); err != nil {
		c.last = c.info.Total // no more checkpoints for this body
		return nil
	}
	c.last, c.lastAt = n, cfg.Clock.Now()
	if err := failpoint.Inject("after-checkpoint"); err != nil {
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}
	}
	return nil
}
