package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
)

// hostSyncInterval is how often a worker process polls the operator's host
// pauses and publishes its host states.
const hostSyncInterval = 5 * time.Second

// startHostSync applies the store's host pauses to the runtime's policy
// once, before any request, then keeps polling them and publishing the
// hosts' states (challenge walls included) in the background. stop ends
// the polling and publishes the final states.
func startHostSync(ctx context.Context, rt *runtime, store fulltext.JobStore, owner string, log *slog.Logger) (stop func(), err error) {
	s := rt.policy.NewSyncer(hostpolicy.SyncConfig{
		Store: store, Owner: owner, Interval: hostSyncInterval, Challenges: rt.cascade.Challenged,
		OnError: func(err error) { log.Warn("host sync", "err", err) },
	})
	if err := s.SyncOnce(ctx); err != nil {
		return nil, asStoreErr(err)
	}
	syncCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(syncCtx)
	}()
	return func() {
		cancel()
		<-done
		if err := s.SyncOnce(context.WithoutCancel(ctx)); err != nil {
			log.Warn("host sync", "err", err)
		}
	}, nil
}

// hostRow is one host of `oafetch hosts`: its configured budget and what
// the job store knows of it (operator pause, the last state a worker
// published).
type hostRow struct {
	Host        string                  `json:"host"`
	Rate        float64                 `json:"rate"` // configured requests per second
	Concurrency int                     `json:"concurrency"`
	Configured  bool                    `json:"configured"` // has its own budget (built in or [hosts."name"])
	PausedUntil *time.Time              `json:"paused_until,omitempty"`
	State       *hostpolicy.SharedState `json:"state,omitempty"`
}

func (a *app) hostsCommand() *cobra.Command {
	var (
		sf     storeFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "hosts [--json]",
		Short: "Per-host politeness state; pause or resume a host fleet-wide",
		Long: "hosts lists every host with a configured budget or a state in the job store: its rate and\n" +
			"concurrency, an operator pause, and the last state a worker published (adaptive limit, in\n" +
			"flight, breaker, last Retry-After, challenge wall seen, robots.txt).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := a.hostRows(cmd, &sf)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			printHosts(cmd.OutOrStdout(), rows, time.Now())
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.hostsPauseCommand(), a.hostsResumeCommand())
	return cmd
}

func (a *app) hostsPauseCommand() *cobra.Command {
	var (
		sf  storeFlags
		dur time.Duration
	)
	cmd := &cobra.Command{
		Use:   "pause HOST... [--for DURATION]",
		Short: "Pause hosts for every worker sharing the job store",
		Long: "pause stops every worker of the job store from sending requests to each HOST until the\n" +
			"pause ends: they see the pause within a few seconds, and jobs that need the host are\n" +
			"re-planned for after it (rate-limited, not_before set).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dur <= 0 {
				return usagef("--for %s: want a positive duration", dur)
			}
			hosts := make([]string, 0, len(args))
			for _, arg := range args {
				host, err := hostArg(arg)
				if err != nil {
					return err
				}
				hosts = append(hosts, host)
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			// Rounded up to the second: at least the pause asked for.
			until := time.Now().Add(dur).UTC()
			if t := until.Truncate(time.Second); !t.Equal(until) {
				until = t.Add(time.Second)
			}
			for _, host := range hosts {
				if err := store.SetMeta(cmd.Context(), hostpolicy.PauseKeyPrefix+host, until.Format(time.RFC3339)); err != nil {
					return asStoreErr(fmt.Errorf("hosts pause: %w", err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s paused until %s\n", host, until.Format(time.RFC3339))
			}
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().DurationVar(&dur, "for", time.Hour, "how long the pause lasts")
	return cmd
}

func (a *app) hostsResumeCommand() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "resume HOST",
		Short: "Lift an operator pause of a host",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := hostArg(args[0])
			if err != nil {
				return err
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			// The JobStore has no delete: an empty value means not paused.
			if err := store.SetMeta(cmd.Context(), hostpolicy.PauseKeyPrefix+host, ""); err != nil {
				return asStoreErr(fmt.Errorf("hosts resume: %w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s resumed\n", host)
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	return cmd
}

// hostArg checks and normalises a HOST argument: a host name, optionally
// with a port, no scheme or path.
func hostArg(s string) (string, error) {
	h := hostpolicy.HostKey(s)
	if h == "" || strings.ContainsAny(h, "/?#@ \t") {
		return "", usagef("host %q: want a host name such as api.example.org", s)
	}
	return h, nil
}

// hostRows merges the configured budgets with the store's pauses and
// published states.
func (a *app) hostRows(cmd *cobra.Command, sf *storeFlags) ([]hostRow, error) {
	ctx := cmd.Context()
	cfg, err := a.loadConfig(sf)
	if err != nil {
		return nil, err
	}
	pcfg, err := policyConfig(cfg)
	if err != nil {
		return nil, err
	}
	policy := hostpolicy.NewPolicy(pcfg)
	store, err := a.openJobStore(ctx, sf, cfg)
	if err != nil {
		return nil, err
	}
	pauses, err := store.ListMeta(ctx, hostpolicy.PauseKeyPrefix)
	if err != nil {
		return nil, asStoreErr(fmt.Errorf("hosts: %w", err))
	}
	states, err := store.ListMeta(ctx, hostpolicy.StateKeyPrefix)
	if err != nil {
		return nil, asStoreErr(fmt.Errorf("hosts: %w", err))
	}
	rows := map[string]*hostRow{}
	row := func(host string) *hostRow {
		host = hostpolicy.HostKey(host)
		r, ok := rows[host]
		if !ok {
			hc := policy.Config(host)
			r = &hostRow{Host: host, Rate: float64(hc.Rate), Concurrency: hc.Concurrency}
			rows[host] = r
		}
		return r
	}
	for _, h := range policy.ConfiguredHosts() {
		row(h).Configured = true
	}
	now := time.Now()
	for k, v := range pauses {
		if until, ok := hostpolicy.ParsePause(v); ok && now.Before(until) {
			r := row(strings.TrimPrefix(k, hostpolicy.PauseKeyPrefix))
			r.PausedUntil = &until
		}
	}
	for k, v := range states {
		var st hostpolicy.SharedState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			continue // a state written by another version; the next publication replaces it
		}
		row(strings.TrimPrefix(k, hostpolicy.StateKeyPrefix)).State = &st
	}
	out := make([]hostRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b hostRow) int { return strings.Compare(a.Host, b.Host) })
	return out, nil
}

// printHosts prints the human table of `oafetch hosts`.
func printHosts(out io.Writer, rows []hostRow, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "host\trate\tconc\tlimit\tin flight\tbreaker\tretry-after\tchallenge\trobots\tpaused until\tseen")
	for _, r := range rows {
		limit, inFlight, breaker, ra, challenge, robots, seen := "-", "-", "-", "-", "-", "-", "-"
		rate, conc := r.Rate, r.Concurrency
		if st := r.State; st != nil {
			// The running worker's budget wins over this command's config.
			rate, conc = st.Rate, st.Concurrency
			limit, inFlight = strconv.Itoa(st.Limit), strconv.Itoa(st.InFlight)
			breaker = orDash(st.Breaker)
			if st.LastRetryAfterMS > 0 {
				ra = (time.Duration(st.LastRetryAfterMS) * time.Millisecond).String()
			}
			if !st.ChallengeSeen.IsZero() {
				challenge = st.ChallengeSeen.UTC().Format(time.RFC3339)
			}
			robots = orDash(st.Robots)
			seen = now.Sub(st.At).Round(time.Second).String() + " ago"
			if st.Owner != "" {
				seen += " by " + st.Owner
			}
		}
		paused := "-"
		if r.PausedUntil != nil {
			paused = r.PausedUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, formatRate(rate), conc,
			limit, inFlight, breaker, ra, challenge, robots, paused, seen)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatRate writes requests per second the way the config does: "10/s",
// or "1/3s" below one per second.
func formatRate(r float64) string {
	switch {
	case r <= 0:
		return "-"
	case r >= 1e9:
		return "unpaced"
	case r >= 1:
		return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
	}
	return "1/" + (time.Duration(float64(time.Second) / r)).Round(time.Millisecond).String()
}
