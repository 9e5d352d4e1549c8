package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/sqlite"
	"github.com/oafetch/oafetch/internal/telemetry"
	"github.com/oafetch/oafetch/internal/worker"
)

// pullOpts are the flags of pull, plan and work.
type pullOpts struct {
	store storeFlags
	in    inputFlags
	run   runFlags
}

func (a *app) pullCommand() *cobra.Command {
	o := &pullOpts{}
	cmd := &cobra.Command{
		Use:   "pull [ID...] [--input FILE]...",
		Short: "Plan the given works and fetch their full texts",
		Long: "pull plans the given works in the job store (idempotently: known works are not planned again)\n" +
			"and processes every pending job. Kill it at any moment; run it again to resume.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.pull(cmd, o, args, true, true)
		},
	}
	a.addStoreFlags(cmd, &o.store)
	addInputFlags(cmd, &o.in)
	addRunFlags(cmd, &o.run)
	return cmd
}

func (a *app) planCommand() *cobra.Command {
	o := &pullOpts{}
	cmd := &cobra.Command{
		Use:   "plan [ID...] [--input FILE]...",
		Short: "Enqueue works in the job store without fetching",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.pull(cmd, o, args, true, false)
		},
	}
	a.addStoreFlags(cmd, &o.store)
	addInputFlags(cmd, &o.in)
	addRunFlags(cmd, &o.run)
	return cmd
}

func (a *app) workCommand() *cobra.Command {
	o := &pullOpts{}
	cmd := &cobra.Command{
		Use:   "work",
		Short: "Claim and process planned jobs (many processes and machines may run it at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.pull(cmd, o, args, false, true)
		},
	}
	a.addStoreFlags(cmd, &o.store)
	addRunFlags(cmd, &o.run)
	return cmd
}

// pull plans (when plan) and processes (when work) jobs.
func (a *app) pull(cmd *cobra.Command, o *pullOpts, args []string, plan, work bool) (retErr error) {
	ctx := cmd.Context()
	if err := o.in.validate(); err != nil {
		return err
	}
	log, err := a.logger(&o.store)
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig(&o.store)
	if err != nil {
		return err
	}
	if err := applyRunFlags(cmd, &cfg, &o.run); err != nil {
		return err
	}
	formats, _ := parseFormats(o.run.formats)
	if plan && len(args) == 0 && len(o.in.inputs) == 0 && !o.in.query() && !work {
		return usagef("plan: give identifiers, --input FILE, --openalex-filter or --topic")
	}
	out := cmd.OutOrStdout()
	if o.run.dryRun {
		return a.dryRun(ctx, cmd, o, args, cfg, formats)
	}

	store, err := a.openJobStore(ctx, &o.store, cfg)
	if err != nil {
		return err
	}
	arts, err := a.openArtifactStore(ctx, &o.store, cfg)
	if err != nil {
		return err
	}
	tel, err := a.startTelemetry(&o.store, &o.run, store, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := tel.close(); err != nil && retErr == nil {
			retErr = err
		}
	}()
	rt, err := buildObservedRuntime(cfg, formats, false, arts, log, tel.metrics)
	if err != nil {
		return err
	}
	if err := a.useMetaCache(rt, &o.store, &o.run, log); err != nil {
		return err
	}
	if work { // plan only enqueues: the reconciler runs where jobs are processed
		recs, err := reconcile(ctx, store, arts, log)
		tel.recorder.Recovered(recs)
		if err != nil {
			return err
		}
	}

	var counts planCounts
	var paused error // an OpenAlex query stopped by its daily allowance
	if plan {
		p := &planner{store: recordingPlanSink{store, tel.recorder}, report: a.stderr, max: o.in.max}
		if err := a.planInputs(ctx, p, store, tel.recorder, args, o.in.inputs); err != nil {
			return err
		}
		if o.in.query() {
			if err := a.planQuery(ctx, p, &o.in, rt, store, log); err != nil {
				if !errors.Is(err, errQueryPaused) && !errors.Is(err, worker.ErrStopped) {
					return err
				}
				paused = err // what arrived is counted (and, unless stopped, processed)
			}
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		counts = p.counts
		fmt.Fprintf(out, "planned %d works: %d new, %d already known, %d bad lines skipped\n",
			counts.Read, counts.Created, counts.Existing, counts.Bad)
	}
	if !work {
		return paused
	}
	if o.run.refresh {
		n, err := worker.Refresh(ctx, store)
		if err != nil {
			return asStoreErr(err)
		}
		fmt.Fprintf(out, "refresh: %d finalized works to re-check\n", n)
	}
	start := time.Now()
	prog := newProgress(a.stderr, a.environ, log, o.store.quiet, tel.metrics)
	pool := newPool(cfg, o.run.workers, store, arts, rt, log, observers{tel.recorder, prog})
	stopHostSync, err := startHostSync(ctx, rt, store, workerOwner(), log)
	if err != nil {
		return err
	}
	stopFleet := startFleet(ctx, store, rt.policy, time.Duration(cfg.Jobs.LeaseTTL), log)
	stopProgress := prog.start(ctx, store)
	runErr := pool.Run(ctx, a.stop)
	stopProgress()
	stopFleet()
	stopHostSync()
	if a.opts.workDone != nil {
		a.opts.workDone()
	}
	st, err := store.Stats(context.WithoutCancel(ctx))
	if err != nil {
		return asStoreErr(fmt.Errorf("stats: %w", err))
	}
	fmt.Fprintf(out, "\nfinished in %s\n", time.Since(start).Round(time.Millisecond))
	printStats(out, st)
	if counts.Bad > 0 {
		fmt.Fprintf(out, "\n%d input lines were not works (see the messages above)\n", counts.Bad)
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return runErr
		}
		var se *storeError
		if !errors.As(runErr, &se) && !isStopped(runErr) {
			runErr = asStoreErr(runErr)
		}
		return runErr
	}
	return paused
}

// dryRun resolves each given work through the cascade without fetching and
// prints its candidates as JSON lines; the job store is not touched.
func (a *app) dryRun(ctx context.Context, cmd *cobra.Command, o *pullOpts, args []string, cfg Config, formats []fulltext.Kind) error {
	log, _ := a.logger(&o.store)
	rt, err := buildRuntime(cfg, formats, true, nil, log)
	if err != nil {
		return err
	}
	collect := &collector{}
	p := &planner{store: collect, report: a.stderr, max: o.in.max}
	if err := p.planArgs(ctx, args); err != nil {
		return err
	}
	for _, in := range o.in.inputs {
		if err := p.planFile(ctx, in, a.stdin); err != nil {
			return err
		}
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetEscapeHTML(false)
	for _, w := range collect.works {
		res := rt.cascade.Run(ctx, fulltext.Lease{}, w, download.Hooks{})
		if err := enc.Encode(struct {
			WorkID     string               `json:"work_id"`
			Candidates []fulltext.Candidate `json:"candidates"`
			Code       fulltext.Code        `json:"code,omitempty"`
		}{w.ID.String(), res.Candidates, dryCode(res)}); err != nil {
			return err
		}
	}
	return nil
}

func dryCode(res cascadeResult) fulltext.Code {
	if len(res.Candidates) > 0 {
		return ""
	}
	return res.Code
}

func isStopped(err error) bool { return exitCode(err) == exitInterrupted }

type cascadeResult = cascade.Result

// collector is the plan sink of dry runs: it keeps the works in memory.
type collector struct{ works []fulltext.Work }

func (c *collector) Plan(_ context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	c.works = append(c.works, works...)
	return fulltext.PlanResult{Created: len(works)}, nil
}

// planInputs plans the identifiers and --input files through a planning
// session when the job store has one (SQLite: long transactions, a large
// page cache while planning only), and closes it before anything else
// writes to the store.
func (a *app) planInputs(ctx context.Context, p *planner, store fulltext.JobStore, rec *telemetry.Recorder, args, inputs []string) (retErr error) {
	if b, ok := store.(bulkPlanner); ok && (len(args) > 0 || len(inputs) > 0) {
		sess, err := b.BeginPlan(ctx, sqlite.PlanSessionOptions{})
		if err != nil {
			return asStoreErr(fmt.Errorf("plan: %w", err))
		}
		defer func() {
			if err := sess.Close(ctx); err != nil && retErr == nil {
				retErr = asStoreErr(fmt.Errorf("plan: %w", err))
			}
		}()
		p.store = recordingPlanSink{sess, rec}
		defer func() { p.store = recordingPlanSink{store, rec} }()
	}
	// Parse the next batch while one is planned; wait for it before the
	// session closes (deferred calls run last first).
	p.async = true
	defer func() {
		if err := p.wait(); err != nil && retErr == nil {
			retErr = err
		}
		p.async = false
	}()
	if err := p.planArgs(ctx, args); err != nil {
		return err
	}
	for _, in := range inputs {
		if err := p.planFile(ctx, in, a.stdin); err != nil {
			return err
		}
	}
	return p.flush(ctx)
}

// bulkPlanner is a job store with planning sessions (internal/sqlite).
type bulkPlanner interface {
	BeginPlan(ctx context.Context, o sqlite.PlanSessionOptions) (*sqlite.PlanSession, error)
}
