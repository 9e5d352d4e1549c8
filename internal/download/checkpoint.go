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
// or the job's next claim turns into the job's kept prefix
// (fulltext.CheckpointStore.RecoverTemp), which the next attempt adopts
// like any kept prefix (keep.go).
//
// A checkpoint runs in its own goroutine while the body streams on (its
// fsync overlaps the network); one at a time: a checkpoint due while the
// previous one still runs waits for the next chunk. The stream waits for
// the last one before the temp is committed, kept or aborted. A failed
// checkpoint ends checkpointing for this body; the download goes on.

// checkpoints is the checkpoint state of one streamed body.
type checkpoints struct {
	r      *run
	cp     fulltext.Checkpointer
	info   fulltext.ResumeInfo
	last   int64 // offset when the last checkpoint started
	lastAt time.Time
	off    bool            // a checkpoint failed: no more for this body
	done   chan ckptResult // the running checkpoint's result; nil when none runs
}

// ckptResult is how a checkpoint ended: err from the store (checkpoints
// stop), or fail from the after-checkpoint failpoint (the download fails).
type ckptResult struct {
	err, fail error
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

// maybe starts a checkpoint when n bytes were written and one is due and
// none is running. It returns an error only from the after-checkpoint
// failpoint.
func (c *checkpoints) maybe(n int64) error {
	if c.done != nil {
		select {
		case res := <-c.done:
			c.done = nil
			if err := c.finished(res); err != nil {
				return err
			}
		default:
			return nil // the previous one still runs
		}
	}
	cfg := c.r.d.cfg
	if c.off || n >= c.info.Total {
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
	c.last, c.lastAt = n, cfg.Clock.Now()
	done := make(chan ckptResult, 1)
	c.done = done
	cp, ctx, key, info := c.cp, context.WithoutCancel(c.r.parent), c.r.key, c.info
	go func() {
		if err := cp.Checkpoint(ctx, key, info); err != nil {
			done <- ckptResult{err: err}
			return
		}
		if err := failpoint.Inject("after-checkpoint"); err != nil {
			done <- ckptResult{fail: &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: %w", err)}}
			return
		}
		done <- ckptResult{}
	}()
	return nil
}

// finished handles the result of a checkpoint: a failpoint error is
// returned, a failed checkpoint turns checkpoints off.
func (c *checkpoints) finished(res ckptResult) error {
	if res.err != nil || res.fail != nil {
		c.off = true
	}
	return res.fail
}

// wait waits for the running checkpoint, if any: before the temp is
// committed, kept or aborted. It returns what maybe would.
func (c *checkpoints) wait() error {
	if c == nil || c.done == nil {
		return nil
	}
	res := <-c.done
	c.done = nil
	return c.finished(res)
}
