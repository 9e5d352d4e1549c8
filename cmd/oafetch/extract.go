package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/landing"
)

func (a *app) extractCommand() *cobra.Command {
	var (
		pageURL string
		doi     string
		status  int
	)
	cmd := &cobra.Command{
		Use:   "extract --url URL FILE|-",
		Short: "Analyse a saved landing page: full-text links found, technique, verdict (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(pageURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--url %q: want the absolute http(s) URL the page was served at", pageURL)
			}
			var body []byte
			if args[0] == "-" {
				body, err = io.ReadAll(io.LimitReader(a.stdin, 64<<20))
			} else {
				body, err = os.ReadFile(args[0])
			}
			if err != nil {
				return usagef("extract: %w", err)
			}
			res := landing.Extract(pageURL, status, nil, body, landing.Hint{DOI: doi})
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res); err != nil {
				return fmt.Errorf("extract: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pageURL, "url", "", "the URL the page was served at (resolves relative links)")
	cmd.Flags().StringVar(&doi, "doi", "", "the work's DOI (links to other DOIs are refused)")
	cmd.Flags().IntVar(&status, "status", 200, "the HTTP status the page was served with")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}
