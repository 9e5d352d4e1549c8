package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// jobRun is one claimed job being processed: it tracks the state the
// ledger steps have moved the job to, so hooks from parallel fetches move
// it once.
type jobRun struct {
	p   *Pool
	job fulltext.Job
	// lease is read without the lock by every write of the job; it never
	// changes (renewals move until, not lease.Until).
	lease fulltext.Lease

	// replayFinalize is set when an earlier holder started FINALIZE and
	// never finished it: the bytes it committed are this job's own, not a
	// duplicate of another work's.
	replayFinalize bool

	mu    sync.Mutex
	state fulltext.JobState
	lost  error
	until time.Time // expiry after the last renewal
}

// process carries one job from LEASED to its next state. It returns an
// error only for store failures that should stop the pool; a lost lease is
// logged and the job left to its new holder. almostIdle (may be nil) is
// called when only the job's Finish is left to write (see work).
func (p *Pool) process(ctx context.Context, j fulltext.Job, almostIdle func()) error {
	r := &jobRun{p: p, job: j, lease: j.Lease(), state: j.State}
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		r.renew(jobCtx, cancel)
	}()
	defer func() { cancel(); <-renewDone }()

	// A first claim (epoch 1) has no earlier holder whose operations could
	// be interrupted: skip the ledger read.
	if interrupted := p.interruptedOpsAfterFirst(ctx, j); len(interrupted) > 0 {
		p.log.Info("replaying interrupted operations", "work", j.Work.ID.String(), "ops", interrupted, "epoch", j.Epoch)
		r.replayFinalize = slices.Contains(interrupted, fulltext.OpFinalize)
		if p.life != nil {
			p.life.JobReplayed(j, interrupted)
		}
	}

	var refreshAtt *fulltext.Attempt
	if prev := p.pendingRefresh(ctx, j); prev != nil {
		fin, att, done := r.refresh(jobCtx, prev)
		if err := r.lostErr(); err != nil {
			p.log.Warn("lease lost; leaving job to its new holder", "work", j.Work.ID.String(), "err", err)
			return nil
		}
		if done && ctx.Err() == nil {
			return r.finishRefreshed(ctx, fin, att)
		}
		refreshAtt = &att
	}

	res := p.cascade.Run(jobCtx, r.lease, j.Work, download.Hooks{Headers: r.onHeaders, Stream: r.onStream})
	if refreshAtt != nil {
		refreshAtt.Seq = len(res.Attempts) + 1
		res.Attempts = append(res.Attempts, *refreshAtt)
	}
	if err := r.lostErr(); err != nil {
		abortWinner(res.Winner)
		p.log.Warn("lease lost; leaving job to its new holder", "work", j.Work.ID.String(), "err", err)
		return nil
	}
	if ctx.Err() != nil {
		// Stopping: give the job back untouched.
		abortWinner(res.Winner)
		if err := p.store.Release(context.WithoutCancel(ctx), r.lease); err != nil && !errors.Is(err, fulltext.ErrLeaseLost) {
			return fmt.Errorf("release %s: %w", r.lease, err)
		}
		if p.life != nil {
			p.life.LeaseReleased(r.lease)
		}
		return nil
	}
	fin := r.finishFor(ctx, res)
	fin.Attempts = res.Attempts // recorded in the Finish transaction
	if err := failpoint.Inject("before-finish"); err != nil {
		return r.storeErr("finish", err)
	}
	if almostIdle != nil {
		almostIdle()
	}
	if err := p.store.Finish(ctx, r.lease, fin); err != nil {
		return r.storeErr("finish", err)
	}
	if rs, ok := p.artifacts.(fulltext.ResumableStore); ok && p.mayHaveKept(r.lease) && fin.State.Terminal() {
		// Prefixes kept for a later attempt are no longer wanted (the
		// reconciler removes them too, should this fail).
		if err := rs.DropKept(ctx, fulltext.ResumeKey{JobID: j.ID}); err != nil {
			p.log.Warn("drop kept prefixes", "work", j.Work.ID.String(), "err", err)
		}
	}
	if refreshAtt != nil {
		if err := p.store.SetMeta(ctx, refreshKey(j.ID), ""); err != nil {
			p.log.Warn("refresh: clear kept result", "work", j.Work.ID.String(), "err", err)
		}
	}
	if err := failpoint.Inject("after-finish"); err != nil {
		return r.storeErr("finish", err)
	}
	j.Work, j.State = res.Work, r.current()
	p.log.Debug("job finished", "work", j.Work.ID.String(), "state", fin.State, "code", fin.Code, "detail", fin.Detail)
	if p.observer != nil {
		p.observer.JobFinished(j, fin, res.Attempts)
	}
	return nil
}

// finishFor commits a winner or decides the next state from the code.
func (r *jobRun) finishFor(ctx context.Context, res cascadeResult) fulltext.Finish {
	if res.Winner == nil {
		if r.current() == fulltext.StateStreaming {
			_ = r.step(ctx, fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpFailed, Detail: string(res.Code)})
		}
		return r.p.decide(r.job, res.Code, res.Detail, res.RetryAfter)
	}
	art, err := r.commitWinner(ctx, res)
	if err != nil {
		code := fulltext.CodeOf(err)
		if code == fulltext.CodeInternal {
			code = fulltext.CodeStoreError
		}
		return r.p.decide(r.job, code, err.Error(), 0)
	}
	fin := fulltext.Finish{
		State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: res.Code,
		Result: &fulltext.Result{
			Kind: res.Winner.Kind, Source: res.Candidate.Source, URL: res.Winner.FinalURL,
			SHA256: art.SHA256, Bytes: art.Bytes, Path: art.Path,
			ETag: res.Winner.Header.Get("ETag"), LastMod: res.Winner.Header.Get("Last-Modified"),
		},
	}
	if fin.Result.URL == "" {
		fin.Result.URL = res.Candidate.URL
	}
	switch {
	case art.Existing && r.replayFinalize:
		fin.Detail = "replayed an interrupted FINALIZE; the artifact was already committed"
	case art.Existing:
		fin.State, fin.Code = fulltext.StateDeduped, fulltext.CodeOKExisting
		fin.Detail = "identical bytes already stored as " + art.ContentPath
	}
	return fin
}

// commitWinner writes the ledger steps around the artifact commit:
// STREAM completed, FINALIZE started, commit (fsync, rename, fsync dir).
// The FINALIZE completed row is written by Finish in the same transaction
// as the state change.
func (r *jobRun) commitWinner(ctx context.Context, res cascadeResult) (fulltext.Artifact, error) {
	f := res.Winner
	if f.Temp == nil {
		if err := r.pageToTemp(ctx, f); err != nil {
			return fulltext.Artifact{}, err
		}
	}
	if err := r.step(ctx, fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpCompleted, Detail: fmt.Sprintf("%d bytes sha256 %s", f.Bytes, f.SHA256)}); err != nil {
		_ = f.Temp.Abort()
		return fulltext.Artifact{}, err
	}
	if err := r.step(ctx, fulltext.Step{Op: fulltext.OpFinalize, Status: fulltext.OpStarted}); err != nil {
		_ = f.Temp.Abort()
		return fulltext.Artifact{}, err
	}
	if err := failpoint.Inject("before-artifact-commit"); err != nil {
		_ = f.Temp.Abort()
		return fulltext.Artifact{}, &fulltext.Error{Code: fulltext.CodeStoreError, Err: err}
	}
	art, err := r.p.commit.Commit(ctx, f, r.job.Work.ID)
	if err != nil {
		_ = f.Temp.Abort()
		return fulltext.Artifact{}, err
	}
	if err := failpoint.Inject("after-artifact-commit"); err != nil {
		return fulltext.Artifact{}, &fulltext.Error{Code: fulltext.CodeStoreError, Err: err}
	}
	return art, nil
}

// pageToTemp writes a full-text HTML page kept in memory to a temp artifact.
func (r *jobRun) pageToTemp(ctx context.Context, f *download.Fetched) error {
	if err := r.onStream(); err != nil {
		return err
	}
	tmp, err := r.p.artifacts.Create(ctx, r.lease)
	if err != nil {
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: err}
	}
	if _, err := tmp.Write(f.Page); err != nil {
		_ = tmp.Abort()
		return &fulltext.Error{Code: fulltext.CodeStoreError, Err: err}
	}
	sum := sha256.Sum256(f.Page)
	f.Temp, f.SHA256, f.Bytes = tmp, hex.EncodeToString(sum[:]), int64(len(f.Page))
	return nil
}

func abortWinner(f *download.Fetched) {
	if f != nil && f.Temp != nil {
		_ = f.Temp.Abort()
	}
}

// onHeaders records HEAD once per claim.
func (r *jobRun) onHeaders(int, http.Header) error {
	if r.current() != fulltext.StateLeased {
		return r.lostErr()
	}
	return r.step(context.Background(), fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone})
}

// onStream records STREAM started and moves the job to STREAMING once.
func (r *jobRun) onStream() error {
	switch r.current() {
	case fulltext.StateLeased, fulltext.StateHeadDone, fulltext.StateResumeOK:
		return r.step(context.Background(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming})
	}
	return r.lostErr()
}

// step writes a ledger row (and state change) under the lease, serialised
// across the job's parallel fetches.
func (r *jobRun) step(ctx context.Context, s fulltext.Step) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost != nil {
		return r.lost
	}
	if s.To != "" && !fulltext.CanTransition(r.state, s.To) {
		return nil // another fetch of this job already moved it
	}
	if err := failpoint.Inject("before-ledger-step"); err != nil {
		return err
	}
	if err := r.p.store.Step(context.WithoutCancel(ctx), r.lease, s); err != nil {
		if errors.Is(err, fulltext.ErrLeaseLost) {
			r.lost = err
		}
		return err
	}
	if r.p.life != nil {
		r.p.life.JobStep(r.job, s, r.state)
	}
	if err := failpoint.Inject("after-ledger-step"); err != nil {
		return err
	}
	if s.To != "" {
		r.state = s.To
	}
	return nil
}

func (r *jobRun) current() fulltext.JobState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *jobRun) lostErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

func (r *jobRun) storeErr(what string, err error) error {
	if errors.Is(err, fulltext.ErrLeaseLost) {
		r.p.log.Warn("lease lost at "+what, "work", r.job.Work.ID.String())
		return nil
	}
	return fmt.Errorf("%s %s: %w", what, r.lease, err)
}

// renew extends the lease every TTL/3 until ctx ends; a lost lease cancels
// the job.
func (r *jobRun) renew(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(r.p.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		until, err := r.p.store.Renew(ctx, r.lease, r.p.cfg.LeaseTTL)
		if err == nil {
			r.until = until
		} else if errors.Is(err, fulltext.ErrLeaseLost) {
			r.lost = err
		}
		l := r.lease
		r.mu.Unlock()
		if r.p.life != nil && ctx.Err() == nil {
			r.p.life.LeaseRenewed(l, err)
		}
		if errors.Is(err, fulltext.ErrLeaseLost) {
			cancel()
			return
		}
		if err != nil && ctx.Err() == nil {
			r.p.log.Warn("lease renewal failed", "work", r.job.Work.ID.String(), "err", err)
		}
	}
}

func (p *Pool) interruptedOpsAfterFirst(ctx context.Context, j fulltext.Job) []fulltext.Op {
	if j.Epoch <= 1 {
		return nil
	}
	return p.interruptedOps(ctx, j.ID)
}

// interruptedOps lists ledger operations a previous holder started and never
// completed; they are replayed through the normal path.
func (p *Pool) interruptedOps(ctx context.Context, jobID int64) []fulltext.Op {
	rows, err := p.store.Ledger(ctx, jobID)
	if err != nil {
		return nil
	}
	open := map[fulltext.Op]bool{}
	for _, e := range rows {
		switch e.Status {
		case fulltext.OpStarted:
			open[e.Op] = true
		default:
			delete(open, e.Op)
		}
	}
	out := make([]fulltext.Op, 0, len(open))
	for op := range open {
		out = append(out, op)
	}
	return out
}

// keptTaker is a Committer that knows which jobs it kept prefixes for
// (download.Downloader.TakeKept).
type keptTaker interface {
	TakeKept(jobID int64) bool
}

// mayHaveKept reports whether prefixes may be kept for l's job: by an
// earlier lease (epoch > 1: its holder may have kept one, or crashed with
// a checkpointed temp), or by this one, as the Committer says. A Committer
// that cannot say is assumed to have kept one. It forgets what the
// Committer knew of the job, so call it once per claim.
func (p *Pool) mayHaveKept(l fulltext.Lease) bool {
	kt, ok := p.commit.(keptTaker)
	if !ok {
		return true
	}
	kept := kt.TakeKept(l.JobID)
	return kept || l.Epoch > 1
}
