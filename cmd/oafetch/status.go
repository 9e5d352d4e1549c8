package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func (a *app) statusCommand() *cobra.Command {
	var (
		sf     storeFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Counts by state and outcome, live leases, per-source yield",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			st, err := store.Stats(cmd.Context())
			if err != nil {
				return asStoreErr(fmt.Errorf("status: %w", err))
			}
			if err := addLiveWorkers(cmd.Context(), store, time.Duration(cfg.Jobs.LeaseTTL), &st); err != nil {
				return asStoreErr(fmt.Errorf("status: %w", err))
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStats(cmd.OutOrStdout(), st)
			printLiveWorkers(cmd.OutOrStdout(), st, time.Now())
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printStats prints the human summary used by status, pull and demo.
func printStats(out io.Writer, st fulltext.Stats) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "works\t%d\n", st.Total)
	fmt.Fprintf(tw, "live leases\t%d\n", st.LiveLeases)
	fmt.Fprintln(tw, "\nstate\tworks")
	for _, s := range fulltext.AllStates {
		if n := st.ByState[s]; n > 0 {
			fmt.Fprintf(tw, "%s\t%d\n", s, n)
		}
	}
	fmt.Fprintln(tw, "\noutcome\tcode\tworks")
	codes := make([]fulltext.Code, 0, len(st.ByCode))
	for c := range st.ByCode {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		oi, oj := codes[i].Outcome(), codes[j].Outcome()
		if oi != oj {
			return oi < oj
		}
		return codes[i] < codes[j]
	})
	for _, c := range codes {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Outcome(), c, st.ByCode[c])
	}
	if len(st.BySourceOK) > 0 {
		fmt.Fprintln(tw, "\nsource\tfull texts")
		srcs := make([]string, 0, len(st.BySourceOK))
		for s := range st.BySourceOK {
			srcs = append(srcs, s)
		}
		sort.Slice(srcs, func(i, j int) bool {
			return st.BySourceOK[srcs[i]] > st.BySourceOK[srcs[j]] || (st.BySourceOK[srcs[i]] == st.BySourceOK[srcs[j]] && srcs[i] < srcs[j])
		})
		for _, s := range srcs {
			fmt.Fprintf(tw, "%s\t%d\n", s, st.BySourceOK[s])
		}
	}
	tw.Flush()
}
