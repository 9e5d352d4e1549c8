package telemetry

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// SLOConfig holds the service level objectives `oafetch report` checks.
// Zero fields take the defaults of the system we re-create.
type SLOConfig struct {
	// CompletionPercent is the least share of jobs that must end with a
	// decided outcome (ok, skip, absent, blocked, invalid). Defaults to 99.5.
	CompletionPercent float64
	// TimeToTerminalP95 is the longest p95 from planning to the terminal
	// state. Defaults to 2m.
	TimeToTerminalP95 time.Duration
	// LeaseAcquireP99 is the longest p99 of the Claim call. Defaults to
	// 100ms.
	LeaseAcquireP99 time.Duration
	// ReplayPercentMax is the largest share of claimed jobs that may have
	// had to replay an interrupted operation. Defaults to 5.
	ReplayPercentMax float64
}

func (c SLOConfig) withDefaults() SLOConfig {
	c.CompletionPercent = cmp.Or(c.CompletionPercent, 99.5)
	c.TimeToTerminalP95 = cmp.Or(c.TimeToTerminalP95, 2*time.Minute)
	c.LeaseAcquireP99 = cmp.Or(c.LeaseAcquireP99, 100*time.Millisecond)
	c.ReplayPercentMax = cmp.Or(c.ReplayPercentMax, 5)
	return c
}

// Quantiles summarises a distribution, in seconds (nearest rank).
type Quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_seconds"`
	P95   float64 `json:"p95_seconds"`
	P99   float64 `json:"p99_seconds"`
	Max   float64 `json:"max_seconds"`
}

func quantiles(v []float64) Quantiles {
	if len(v) == 0 {
		return Quantiles{}
	}
	slices.Sort(v)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	return Quantiles{Count: len(v), P50: q(.50), P95: q(.95), P99: q(.99), Max: v[len(v)-1]}
}

// SourceYield is what one source contributed.
type SourceYield struct {
	Source string `json:"source"`
	// Works is the number of jobs in which the source was asked or tried.
	Works    int `json:"works"`
	Attempts int `json:"attempts"`
	// Won is the number of jobs whose full text came from the source.
	Won          int     `json:"won"`
	YieldPercent float64 `json:"yield_percent"`
}

// SLOResult is the verdict on one objective.
type SLOResult struct {
	Name      string  `json:"name"`
	Objective string  `json:"objective"`
	Target    float64 `json:"target"`
	Actual    float64 `json:"actual"`
	Unit      string  `json:"unit"`
	// Evaluated is false when there is no data to judge (no job, or no
	// event log for the lease latency); such an SLO is not violated.
	Evaluated bool `json:"evaluated"`
	OK        bool `json:"ok"`
}

// Report is the run report of one job store (and its event log).
type Report struct {
	GeneratedAt       time.Time                 `json:"generated_at"`
	Jobs              int                       `json:"jobs"`
	Terminal          int                       `json:"terminal"`
	Completed         int                       `json:"completed"`
	CompletionPercent float64                   `json:"completion_percent"`
	ByState           map[fulltext.JobState]int `json:"by_state"`
	ByOutcome         map[fulltext.Outcome]int  `json:"by_outcome"`
	TimeToTerminal    Quantiles                 `json:"time_to_terminal"`
	LeaseAcquire      Quantiles                 `json:"lease_acquire"`
	// Claimed is the number of jobs claimed at least once; Replayed those
	// whose ledger shows an operation a holder started and never finished
	// before another claim replayed it.
	Claimed       int     `json:"claimed"`
	Replayed      int     `json:"replayed"`
	ReplayPercent float64 `json:"replay_percent"`
	// Recovered are jobs a crash touched (replayed, or whose lease the
	// reconciler reclaimed); RecoveredOK those that then completed.
	Recovered          int            `json:"recovered"`
	RecoveredOK        int            `json:"recovered_ok"`
	RecoverySuccessPct float64        `json:"recovery_success_percent"`
	ReconcilerActions  map[string]int `json:"reconciler_actions"`
	Sources            []SourceYield  `json:"sources"`
	EventLog           string         `json:"event_log,omitempty"`
	Events             int            `json:"events"`
	EventsSkipped      int            `json:"events_skipped"`
	SLOs               []SLOResult    `json:"slos"`
	Violated           bool           `json:"violated"`
}

// completed reports whether a job ended with an outcome decided about the
// work (ok, absent, blocked, invalid, skip) rather than given up on
// (retry, budget, error) or never asked because the host's breaker was
// open (skip-breaker). A job not terminal yet is not completed.
func completed(j fulltext.Job) bool {
	if !j.State.Terminal() || j.Code == fulltext.CodeSkipBreaker {
		return false
	}
	switch j.Outcome {
	case fulltext.OutcomeOK, fulltext.OutcomeSkip, fulltext.OutcomeAbsent, fulltext.OutcomeBlocked, fulltext.OutcomeInvalid:
		return true
	}
	return false
}

// Compute builds the report from the job store (jobs, attempts, ledger)
// and the event log at eventsPath ("" or a missing file: no events; the
// lease latency SLO is then not evaluated). It reads every job: O(jobs)
// queries.
func Compute(ctx context.Context, store fulltext.JobStore, eventsPath string, slo SLOConfig, now time.Time) (Report, error) {
	slo = slo.withDefaults()
	rep := Report{
		GeneratedAt: now.UTC(), ByState: map[fulltext.JobState]int{}, ByOutcome: map[fulltext.Outcome]int{},
		ReconcilerActions: map[string]int{}, EventLog: eventsPath,
	}
	var jobs []fulltext.Job
	if err := store.Each(ctx, func(j fulltext.Job) error { jobs = append(jobs, j); return nil }); err != nil {
		return rep, fmt.Errorf("telemetry: report: jobs: %w", err)
	}

	var claims []float64
	reclaimed := map[int64]bool{}
	if eventsPath != "" {
		skipped, err := ReadEvents(eventsPath, func(e Event) error {
			rep.Events++
			switch e.Type {
			case EventJobLeased:
				if e.ClaimMS != nil {
					claims = append(claims, *e.ClaimMS/1000)
				}
			case EventCrashRecovery:
				rep.ReconcilerActions[e.Action]++
				if e.Action == "lease_expired" {
					reclaimed[e.JobID] = true
				}
			}
			return nil
		})
		rep.EventsSkipped = skipped
		if err != nil {
			return rep, err
		}
	}
	rep.LeaseAcquire = quantiles(claims)

	type yield struct {
		works, attempts, won int
	}
	yields := map[string]*yield{}
	var ttt []float64
	for _, j := range jobs {
		rep.Jobs++
		rep.ByState[j.State]++
		if j.State.Terminal() {
			rep.Terminal++
			rep.ByOutcome[j.Outcome]++
			ttt = append(ttt, j.UpdatedAt.Sub(j.CreatedAt).Seconds())
		}
		done := completed(j)
		if done {
			rep.Completed++
		}
		if j.Attempts > 0 {
			rep.Claimed++
		}
		ledger, err := store.Ledger(ctx, j.ID)
		if err != nil {
			return rep, fmt.Errorf("telemetry: report: ledger of job %d: %w", j.ID, err)
		}
		replayed := hasReplay(ledger, j.Epoch)
		if replayed {
			rep.Replayed++
		}
		if replayed || reclaimed[j.ID] {
			rep.Recovered++
			if done {
				rep.RecoveredOK++
			}
		}
		atts, err := store.Attempts(ctx, j.ID)
		if err != nil {
			return rep, fmt.Errorf("telemetry: report: attempts of job %d: %w", j.ID, err)
		}
		seen := map[string]bool{}
		for _, a := range atts {
			y := yields[a.Source]
			if y == nil {
				y = &yield{}
				yields[a.Source] = y
			}
			y.attempts++
			if !seen[a.Source] {
				seen[a.Source] = true
				y.works++
			}
		}
		if j.Result != nil && j.Outcome == fulltext.OutcomeOK {
			y := yields[j.Result.Source]
			if y == nil {
				y = &yield{}
				yields[j.Result.Source] = y
			}
			y.won++
		}
	}
	rep.TimeToTerminal = quantiles(ttt)
	rep.CompletionPercent = percent(rep.Completed, rep.Jobs)
	rep.ReplayPercent = percent(rep.Replayed, rep.Claimed)
	rep.RecoverySuccessPct = percent(rep.RecoveredOK, rep.Recovered)
	for name, y := range yields {
		rep.Sources = append(rep.Sources, SourceYield{Source: name, Works: y.works, Attempts: y.attempts, Won: y.won, YieldPercent: percent(y.won, y.works)})
	}
	sort.Slice(rep.Sources, func(i, k int) bool {
		a, b := rep.Sources[i], rep.Sources[k]
		if a.Won != b.Won {
			return a.Won > b.Won
		}
		return a.Source < b.Source
	})

	rep.SLOs = []SLOResult{
		{Name: "completion", Objective: fmt.Sprintf("≥ %.1f %% of jobs end with a decided outcome", slo.CompletionPercent),
			Target: slo.CompletionPercent, Actual: rep.CompletionPercent, Unit: "percent", Evaluated: rep.Jobs > 0,
			OK: rep.CompletionPercent >= slo.CompletionPercent},
		{Name: "time_to_terminal_p95", Objective: fmt.Sprintf("p95 planning → terminal ≤ %s", slo.TimeToTerminalP95),
			Target: slo.TimeToTerminalP95.Seconds(), Actual: rep.TimeToTerminal.P95, Unit: "seconds", Evaluated: rep.TimeToTerminal.Count > 0,
			OK: rep.TimeToTerminal.P95 <= slo.TimeToTerminalP95.Seconds()},
		{Name: "lease_acquire_p99", Objective: fmt.Sprintf("p99 claim latency ≤ %s", slo.LeaseAcquireP99),
			Target: slo.LeaseAcquireP99.Seconds(), Actual: rep.LeaseAcquire.P99, Unit: "seconds", Evaluated: rep.LeaseAcquire.Count > 0,
			OK: rep.LeaseAcquire.P99 <= slo.LeaseAcquireP99.Seconds()},
		{Name: "replay_rate", Objective: fmt.Sprintf("≤ %.1f %% of claimed jobs replay an interrupted operation", slo.ReplayPercentMax),
			Target: slo.ReplayPercentMax, Actual: rep.ReplayPercent, Unit: "percent", Evaluated: rep.Claimed > 0,
			OK: rep.ReplayPercent <= slo.ReplayPercentMax},
	}
	for i := range rep.SLOs {
		if !rep.SLOs[i].Evaluated {
			rep.SLOs[i].OK = true
		}
		if !rep.SLOs[i].OK {
			rep.Violated = true
		}
	}
	return rep, nil
}

// hasReplay reports whether some operation was started under one epoch
// and never completed nor failed under it, while a later epoch exists:
// the later holder replayed it.
func hasReplay(ledger []fulltext.LedgerEntry, current int64) bool {
	type key struct {
		epoch int64
		op    fulltext.Op
	}
	open := map[key]bool{}
	for _, e := range ledger {
		k := key{e.Epoch, e.Op}
		if e.Status == fulltext.OpStarted {
			open[k] = true
		} else {
			delete(open, k)
		}
	}
	for k := range open {
		if k.epoch < current {
			return true
		}
	}
	return false
}

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
