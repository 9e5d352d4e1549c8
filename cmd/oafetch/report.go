package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/telemetry"
)

func (a *app) reportCommand() *cobra.Command {
	var (
		sf     storeFlags
		asJSON bool
		events string
	)
	cmd := &cobra.Command{
		Use:   "report [--json]",
		Short: "Run report and SLO evaluation; exit 1 if an SLO is violated",
		Long: "report computes, from the job store and the event log, the job completion rate, the time to a\n" +
			"terminal state, the lease acquisition latency, the replay rate, crash-recovery success and\n" +
			"per-source yield, and checks them against the [slo] table of the config (docs/operations.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			rep, err := telemetry.Compute(cmd.Context(), store, eventsPath(&sf, events), telemetry.SLOConfig{
				CompletionPercent: cfg.SLO.CompletionPercent,
				TimeToTerminalP95: time.Duration(cfg.SLO.TimeToTerminalP95),
				LeaseAcquireP99:   time.Duration(cfg.SLO.LeaseAcquireP99),
				ReplayPercentMax:  cfg.SLO.ReplayPercentMax,
			}, time.Now())
			if err != nil {
				return asStoreErr(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(out, rep)
			}
			if rep.Violated {
				return errSLO
			}
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&events, "events", "", "event log to read (default: <out>/.oafetch/events.jsonl)")
	return cmd
}

func secs(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
}

func printReport(out io.Writer, r telemetry.Report) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "jobs\t%d\n", r.Jobs)
	fmt.Fprintf(tw, "terminal\t%d\n", r.Terminal)
	fmt.Fprintf(tw, "completed\t%d (%.2f %%)\n", r.Completed, r.CompletionPercent)
	fmt.Fprintf(tw, "time to terminal\tp50 %s  p95 %s  p99 %s  (%d jobs)\n", secs(r.TimeToTerminal.P50), secs(r.TimeToTerminal.P95), secs(r.TimeToTerminal.P99), r.TimeToTerminal.Count)
	if r.LeaseAcquire.Count > 0 {
		fmt.Fprintf(tw, "lease acquisition\tp50 %s  p99 %s  (%d claims)\n", secs(r.LeaseAcquire.P50), secs(r.LeaseAcquire.P99), r.LeaseAcquire.Count)
	} else {
		fmt.Fprintf(tw, "lease acquisition\tn/a (no job_leased events in %s)\n", r.EventLog)
	}
	fmt.Fprintf(tw, "replays\t%d of %d claimed jobs (%.2f %%)\n", r.Replayed, r.Claimed, r.ReplayPercent)
	fmt.Fprintf(tw, "crash recovery\t%d of %d recovered jobs completed (%.1f %%)\n", r.RecoveredOK, r.Recovered, r.RecoverySuccessPct)
	if len(r.Sources) > 0 {
		fmt.Fprintln(tw, "\nsource\tworks asked\tattempts\twon\tyield")
		for _, s := range r.Sources {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f %%\n", s.Source, s.Works, s.Attempts, s.Won, s.YieldPercent)
		}
	}
	fmt.Fprintln(tw, "\nSLO\tobjective\tactual\tverdict")
	for _, s := range r.SLOs {
		actual := fmt.Sprintf("%.2f %%", s.Actual)
		if s.Unit == "seconds" {
			actual = secs(s.Actual)
		}
		verdict := "ok"
		switch {
		case !s.Evaluated:
			verdict, actual = "n/a", "-"
		case !s.OK:
			verdict = "VIOLATED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Objective, actual, verdict)
	}
	tw.Flush()
}
