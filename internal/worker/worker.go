// Package worker claims jobs from the job store and carries each through
// the cascade, the download and the finalize, renewing its lease while it
// works. The single switch from an attempt's outcome code to the job's next
// state lives here (decide.go).
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// Config configures a Pool.
type Config struct {
	// Workers is the number of jobs processed at once. Defaults to 4.
	Workers int
	// Owner names this process in leases. Defaults to "worker".
	Owner string
	// LeaseTTL is the lease length; leases are renewed every LeaseTTL/3.
	// Defaults to 60s.
	LeaseTTL time.Duration
	// MaxAttempts ends a job in FAILED after this many claims. Defaults to 5.
	MaxAttempts int
	// RetryBase is the first retry delay; later ones double, with jitter,
	// up to RetryMax. Defaults to 2s and 10m.
	RetryBase, RetryMax time.Duration
	// Idle is how long to wait before claiming again when nothing is
	// claimable but jobs are still pending (leased elsewhere or not before a
	// retry time). Defaults to 250ms.
	Idle time.Duration
	// Grace is how long in-flight jobs may run after Stop before they are
	// cancelled and released. Defaults to 5s.
	Grace time.Duration
	// ReconcileEvery is the period of the in-run reconciler (expired leases,
	// temps of dead leases; see Reconcile). Defaults to LeaseTTL; negative
	// disables it.
	ReconcileEvery time.Duration
	// Follow keeps the pool claiming after the store drained (a daemon).
	Follow bool
	Clock  fulltext.Clock
	Logger *slog.Logger
	// Refetcher, when set, serves the works Refresh re-planned: their stored
	// URL is asked conditionally before the cascade runs (refresh.go).
	Refetcher Refetcher
}

// Committer stores a winning download; *download.Downloader implements it.
type Committer interface {
	Commit(ctx context.Context, f *download.Fetched, id fulltext.WorkID) (fulltext.Artifact, error)
}

// Observer receives job events (telemetry). Methods are called from worker
// goroutines and must not block.
type Observer interface {
	// JobFinished reports a finished claim: j is the job as it was just
	// before Finish (its State the one f moved it from), f what was written.
	JobFinished(j fulltext.Job, f fulltext.Finish, attempts []fulltext.Attempt)
}

// LifecycleObserver is an Observer that also hears every step of a job's
// life (the telemetry event log). The Pool uses it when its Observer
// implements it. Methods are called from worker goroutines, some while a
// job's lock is held: they must not block and must not call the Pool.
type LifecycleObserver interface {
	Observer
	// JobLeased reports a claimed job and how long the Claim call took.
	JobLeased(j fulltext.Job, claim time.Duration)
	// JobStep reports a ledger row written under j's lease; from is the
	// job's state before the row (s.To, when set, is the state after).
	JobStep(j fulltext.Job, s fulltext.Step, from fulltext.JobState)
	// JobReplayed reports the operations a previous holder started and
	// never completed, which this claim replays.
	JobReplayed(j fulltext.Job, ops []fulltext.Op)
	// LeaseRenewed reports one renewal; err is nil, ErrLeaseLost or a store
	// failure.
	LeaseRenewed(l fulltext.Lease, err error)
	// LeaseReleased reports a job given back untouched (graceful stop).
	LeaseReleased(l fulltext.Lease)
}

// Pool is a set of workers sharing one job store.
type Pool struct {
	cfg       Config
	store     fulltext.JobStore
	artifacts fulltext.ArtifactStore
	cascade   *cascade.Cascade
	commit    Committer
	observer  Observer
	life      LifecycleObserver
	log       *slog.Logger
	refetch   Refetcher

	// drainMu serialises pending checks; drained records that one found
	// every job terminal, which no worker of this run can undo, so that the
	// other idle workers need not count the whole store again (a second
	// pull over 100,000 finished works ran 17 such counts: BENCHMARKS.md, P5).
	drainMu sync.Mutex
	drained bool
}

// New returns a Pool. observer may be nil.
func New(cfg Config, store fulltext.JobStore, artifacts fulltext.ArtifactStore, c *cascade.Cascade, commit Committer, observer Observer) *Pool {
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.Owner = cmp.Or(cfg.Owner, "worker")
	cfg.LeaseTTL = cmp.Or(cfg.LeaseTTL, 60*time.Second)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 5)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, 2*time.Second)
	cfg.RetryMax = cmp.Or(cfg.RetryMax, 10*time.Minute)
	cfg.Idle = cmp.Or(cfg.Idle, 250*time.Millisecond)
	cfg.Grace = cmp.Or(cfg.Grace, 5*time.Second)
	cfg.ReconcileEvery = cmp.Or(cfg.ReconcileEvery, cfg.LeaseTTL)
	if cfg.Clock == nil {
		cfg.Clock = fulltext.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	life, _ := observer.(LifecycleObserver)
	return &Pool{cfg: cfg, store: store, artifacts: artifacts, cascade: c, commit: commit, observer: observer, life: life, log: cfg.Logger, refetch: cfg.Refetcher}
}

// ErrStopped is returned by Run when stop was requested before the store
// drained; state is saved and a later run resumes.
var ErrStopped = errors.New("stopped before all jobs finished")

// Run claims and processes jobs until no job is pending (unless Follow),
// or until stop is cancelled: then no new job is claimed, in-flight jobs get
// Grace to finish and are released otherwise, and Run returns ErrStopped.
// ctx cancellation aborts everything at once (jobs are released).
// Store failures end the run with an error wrapping the store's.
func (p *Pool) Run(ctx context.Context, stop context.Context) error {
	p.drainMu.Lock()
	p.drained = false
	p.drainMu.Unlock()
	workCtx, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	go func() {
		select {
		case <-stop.Done():
			t := time.NewTimer(p.cfg.Grace)
			defer t.Stop()
			select {
			case <-t.C:
				cancelWork()
			case <-workCtx.Done():
			}
		case <-workCtx.Done():
		}
	}()

	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancelWork() })
	}
	if p.cfg.ReconcileEvery > 0 {
		reconcileCtx, stopReconcile := context.WithCancel(workCtx)
		reconcileDone := make(chan struct{})
		go func() {
			defer close(reconcileDone)
			p.reconcileLoop(reconcileCtx, p.cfg.ReconcileEvery)
		}()
		defer func() { stopReconcile(); <-reconcileDone }()
	}
	// One claimer leases as many jobs as workers are idle, in one store
	// transaction, and hands them over; claiming only for idle workers
	// keeps no lease ticking on a job nobody works on.
	jobs := make(chan fulltext.Job)
	idle := make(chan struct{}, p.cfg.Workers)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		if err := p.claimLoop(workCtx, stop, idle, jobs); err != nil {
			fail(err)
		}
	}()
	for range p.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.work(workCtx, idle, jobs); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	switch {
	case firstErr != nil:
		return firstErr
	case stop.Err() != nil || ctx.Err() != nil:
		return ErrStopped
	}
	return nil
}

// work is one worker: say it is idle, take a job, process it, repeat until
// the claimer closes jobs. It says it is idle a little early — when the
// job's Finish is about to be written (process's almostIdle) — so that the
// claim of its next job runs in the same group transaction as that Finish
// (internal/sqlite group commit) and the next job is at hand when the
// Finish returns.
func (p *Pool) work(ctx context.Context, idle chan<- struct{}, jobs <-chan fulltext.Job) error {
	signalled := false
	signal := func() bool {
		if signalled {
			return true
		}
		select {
		case idle <- struct{}{}: // never blocks long: one signal per worker at most
			signalled = true
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		if !signal() {
			return nil
		}
		j, ok := <-jobs
		if !ok {
			return nil
		}
		signalled = false
		if err := p.process(ctx, j, func() { signal() }); err != nil {
			return err
		}
	}
}

// claimLoop claims jobs for the idle workers until the store is drained
// (unless Follow) or stop/ctx ends.
func (p *Pool) claimLoop(ctx, stop context.Context, idle <-chan struct{}, jobs chan<- fulltext.Job) error {
	waiting := 0 // idle workers blocked on jobs
	for {
		if waiting == 0 {
			select {
			case <-idle:
				waiting = 1
			case <-stop.Done():
				return nil
			case <-ctx.Done():
				return nil
			}
		}
	more:
		for waiting < p.cfg.Workers {
			select {
			case <-idle:
				waiting++
			default:
				break more
			}
		}
		if stop.Err() != nil || ctx.Err() != nil {
			return nil
		}
		claimStart := time.Now()
		claimed, err := p.store.Claim(ctx, p.cfg.Owner, waiting, p.cfg.LeaseTTL)
		claimTook := time.Since(claimStart)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("claim: %w", err)
		}
		for i, j := range claimed {
			if p.life != nil {
				p.life.JobLeased(j, claimTook)
			}
			select {
			case jobs <- j:
				waiting--
			case <-ctx.Done():
				// Aborted before a worker took them: give the rest back.
				for _, r := range claimed[i:] {
					_ = p.store.Release(context.WithoutCancel(ctx), r.Lease())
				}
				return nil
			}
		}
		if len(claimed) > 0 {
			continue
		}
		pending, err := p.pending(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !pending && !p.cfg.Follow {
			return nil
		}
		t := time.NewTimer(p.cfg.Idle)
		select {
		case <-t.C:
		case <-stop.Done():
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// pending reports whether some job is not terminal yet (leased elsewhere,
// or waiting for its retry time).
func (p *Pool) pending(ctx context.Context) (bool, error) {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	if p.drained {
		return false, nil
	}
	pending, err := p.store.Pending(ctx)
	if err != nil {
		return false, fmt.Errorf("pending: %w", err)
	}
	if !pending {
		p.drained = true
	}
	return pending, nil
}
