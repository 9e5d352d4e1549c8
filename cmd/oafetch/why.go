package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// whyReport is `oafetch why --json`: a work's job and its attempt tree.
type whyReport struct {
	Record   exportRecord       `json:"record"`
	Detail   string             `json:"detail,omitempty"`
	Attempts []fulltext.Attempt `json:"attempts"`
	Ledger   []ledgerRow        `json:"ledger"`
}

type ledgerRow struct {
	Epoch  int64     `json:"epoch"`
	Op     string    `json:"op"`
	Status string    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

func (a *app) whyCommand() *cobra.Command {
	var (
		sf     storeFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "why ID",
		Short: "The attempt tree of one work: sources, candidates, hops, verdicts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := fulltext.ParseWork(args[0])
			if err != nil {
				return usagef("why: %w", err)
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			j, err := store.Get(cmd.Context(), w.ID)
			if errorsIsNotFound(err) {
				return usagef("why: %s is not in the job store", w.ID)
			}
			if err != nil {
				return asStoreErr(err)
			}
			atts, err := store.Attempts(cmd.Context(), j.ID)
			if err != nil {
				return asStoreErr(err)
			}
			led, err := store.Ledger(cmd.Context(), j.ID)
			if err != nil {
				return asStoreErr(err)
			}
			rep := whyReport{Record: newExportRecord(j), Detail: j.Detail, Attempts: atts}
			for _, e := range led {
				rep.Ledger = append(rep.Ledger, ledgerRow{Epoch: e.Epoch, Op: string(e.Op), Status: string(e.Status), Detail: e.Detail, At: e.At.UTC()})
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(rep)
			}
			printWhy(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func deref(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func printWhy(out io.Writer, rep whyReport) {
	r := rep.Record
	fmt.Fprintf(out, "%s  %s  %s/%s  attempts=%d\n", r.WorkID, r.State, deref(r.Outcome), deref(r.Code), r.Attempts)
	if rep.Detail != "" {
		fmt.Fprintf(out, "  detail: %s\n", rep.Detail)
	}
	if r.Path != nil {
		fmt.Fprintf(out, "  saved: %s (%s from %s, %s)\n", *r.Path, deref(r.Kind), deref(r.Source), deref(r.URL))
		for _, at := range rep.Attempts {
			if at.Code.Outcome() == fulltext.OutcomeOK && (at.Version != "" || at.License != "") {
				fmt.Fprintf(out, "  provenance: version %s, license %s (as %s states)\n",
					cmp.Or(at.Version, "unknown"), cmp.Or(at.License, "unknown"), at.Source)
			}
		}
	}
	children := map[int][]fulltext.Attempt{}
	for _, at := range rep.Attempts {
		children[at.Parent] = append(children[at.Parent], at)
	}
	var walk func(parent, depth int)
	walk = func(parent, depth int) {
		for _, at := range children[parent] {
			ind := strings.Repeat("  ", depth+1)
			what := at.URL
			if what == "" {
				what = at.Technique
			}
			fmt.Fprintf(out, "%s#%d %-15s %s", ind, at.Seq, at.Source, what)
			if at.Technique != "" && at.URL != "" {
				fmt.Fprintf(out, " [%s]", at.Technique)
			}
			if at.HTTPStatus != 0 {
				fmt.Fprintf(out, " http=%d", at.HTTPStatus)
			}
			if at.Bytes != 0 {
				fmt.Fprintf(out, " bytes=%d", at.Bytes)
			}
			if at.Version != "" {
				fmt.Fprintf(out, " version=%s", at.Version)
			}
			if at.License != "" {
				fmt.Fprintf(out, " license=%s", at.License)
			}
			fmt.Fprintf(out, " → %s", at.Code)
			if at.Detail != "" {
				fmt.Fprintf(out, " (%s)", at.Detail)
			}
			fmt.Fprintln(out)
			for _, h := range at.Hops {
				fmt.Fprintf(out, "%s    hop %s\n", ind, h)
			}
			if at.Seq != parent {
				walk(at.Seq, depth+1)
			}
		}
	}
	walk(0, 0)
	if len(rep.Ledger) > 0 {
		fmt.Fprintln(out, "  ledger:")
		for _, e := range rep.Ledger {
			fmt.Fprintf(out, "    epoch %d %-8s %-9s %s\n", e.Epoch, e.Op, e.Status, e.Detail)
		}
	}
}
