package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// exportRecord is the export contract (DESIGN.md §6): one object per work.
type exportRecord struct {
	WorkID    string    `json:"work_id"`
	IDs       exportIDs `json:"ids"`
	State     string    `json:"state"`
	Outcome   *string   `json:"outcome"`
	Code      *string   `json:"code"`
	Kind      *string   `json:"kind"`
	Source    *string   `json:"source"`
	URL       *string   `json:"url"`
	SHA256    *string   `json:"sha256"`
	Bytes     *int64    `json:"bytes"`
	Path      *string   `json:"path"`
	Attempts  int       `json:"attempts"`
	UpdatedAt string    `json:"updated_at"`
}

type exportIDs struct {
	DOI      *string `json:"doi"`
	PMID     *string `json:"pmid"`
	PMCID    *string `json:"pmcid"`
	ArXiv    *string `json:"arxiv"`
	OpenAlex *string `json:"openalex"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newExportRecord(j fulltext.Job) exportRecord {
	r := exportRecord{
		WorkID: j.Work.ID.String(),
		IDs: exportIDs{
			DOI: strOrNil(j.Work.IDs.DOI), PMID: strOrNil(j.Work.IDs.PMID), PMCID: strOrNil(j.Work.IDs.PMCID),
			ArXiv: strOrNil(j.Work.IDs.ArXiv), OpenAlex: strOrNil(j.Work.IDs.OpenAlex),
		},
		State:     string(j.State),
		Outcome:   strOrNil(string(j.Outcome)),
		Code:      strOrNil(string(j.Code)),
		Attempts:  j.Attempts,
		UpdatedAt: j.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if res := j.Result; res != nil && j.Outcome == fulltext.OutcomeOK {
		r.Kind, r.Source, r.URL = strOrNil(string(res.Kind)), strOrNil(res.Source), strOrNil(res.URL)
		r.SHA256, r.Path = strOrNil(res.SHA256), strOrNil(res.Path)
		b := res.Bytes
		r.Bytes = &b
	}
	return r
}

var csvHeader = []string{
	"work_id", "doi", "pmid", "pmcid", "arxiv", "openalex", "state", "outcome", "code",
	"kind", "source", "url", "sha256", "bytes", "path", "attempts", "updated_at",
}

func (r exportRecord) csvRow() []string {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	bytes := ""
	if r.Bytes != nil {
		bytes = strconv.FormatInt(*r.Bytes, 10)
	}
	return []string{
		r.WorkID, s(r.IDs.DOI), s(r.IDs.PMID), s(r.IDs.PMCID), s(r.IDs.ArXiv), s(r.IDs.OpenAlex),
		r.State, s(r.Outcome), s(r.Code), s(r.Kind), s(r.Source), s(r.URL), s(r.SHA256), bytes, s(r.Path),
		strconv.Itoa(r.Attempts), r.UpdatedAt,
	}
}

func (a *app) exportCommand() *cobra.Command {
	var (
		sf     storeFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "export [--format jsonl|csv]",
		Short: "One record per work: ids, state, outcome code, source, path, sha256",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "jsonl" && format != "csv" {
				return usagef("--format %q: want jsonl or csv", format)
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			return asStoreErr(writeExport(cmd, store, format, cmd.OutOrStdout()))
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	return cmd
}

func writeExport(cmd *cobra.Command, store fulltext.JobStore, format string, out io.Writer) error {
	switch format {
	case "csv":
		w := csv.NewWriter(out)
		if err := w.Write(csvHeader); err != nil {
			return err
		}
		err := store.Each(cmd.Context(), func(j fulltext.Job) error { return w.Write(newExportRecord(j).csvRow()) })
		w.Flush()
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return w.Error()
	default:
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		if err := store.Each(cmd.Context(), func(j fulltext.Job) error { return enc.Encode(newExportRecord(j)) }); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	}
}
