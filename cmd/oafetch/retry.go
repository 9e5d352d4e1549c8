package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func (a *app) retryCommand() *cobra.Command {
	var (
		sf           storeFlags
		codes        []string
		allRetryable bool
	)
	cmd := &cobra.Command{
		Use:   "retry [--code CODE]... [--all-retryable]",
		Short: "Re-plan finished works with the given codes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(codes) == 0 && !allRetryable {
				return usagef("retry: give --code CODE or --all-retryable")
			}
			f := fulltext.RetryFilter{AllRetryable: allRetryable}
			for _, c := range codes {
				code := fulltext.Code(c)
				if !code.Known() {
					return usagef("--code %q: not an outcome code", c)
				}
				f.Codes = append(f.Codes, code)
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			store, err := a.openJobStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			n, err := store.Retry(cmd.Context(), f)
			if err != nil {
				return asStoreErr(fmt.Errorf("retry: %w", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-planned %d works; run `oafetch work` or `oafetch pull` to fetch them\n", n)
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().StringSliceVar(&codes, "code", nil, "outcome code to re-plan (repeatable)")
	cmd.Flags().BoolVar(&allRetryable, "all-retryable", false, "re-plan every work whose code is retryable")
	return cmd
}
