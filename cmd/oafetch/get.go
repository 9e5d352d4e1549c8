package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func (a *app) getCommand() *cobra.Command {
	var (
		sf     storeFlags
		rf     runFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "get ID [-o FILE]",
		Short: "Fetch one work without a job store: the whole cascade, the file saved",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			w, err := fulltext.ParseWork(args[0])
			if err != nil {
				return usagef("get: %w", err)
			}
			log, err := a.logger(&sf)
			if err != nil {
				return err
			}
			cfg, err := a.loadConfig(&sf)
			if err != nil {
				return err
			}
			if err := applyRunFlags(cmd, &cfg, &rf); err != nil {
				return err
			}
			formats, _ := parseFormats(rf.formats)
			tmp, err := os.MkdirTemp("", "oafetch-get-")
			if err != nil {
				return asStoreErr(err)
			}
			defer os.RemoveAll(tmp)
			arts, err := filestore.Open(tmp, filestore.Options{})
			if err != nil {
				return asStoreErr(err)
			}
			rt, err := buildRuntime(cfg, formats, false, arts, log)
			if err != nil {
				return err
			}
			res := rt.cascade.Run(ctx, fulltext.Lease{JobID: 1, Epoch: 1}, w, download.Hooks{})
			out := cmd.OutOrStdout()
			if res.Winner == nil {
				fmt.Fprintf(out, "%s: %s (%s)", w.ID, res.Code, res.Code.Outcome())
				if res.Detail != "" {
					fmt.Fprintf(out, ": %s", res.Detail)
				}
				fmt.Fprintln(out)
				return nil
			}
			art, err := rt.download.Commit(ctx, res.Winner, w.ID)
			if err != nil {
				return asStoreErr(fmt.Errorf("get: %w", err))
			}
			if output == "" {
				output = filepath.Base(art.Path)
			}
			if err := copyArtifact(cmd, arts, art.Path, output); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %s %s from %s (%s), %d bytes, sha256 %s → %s\n",
				w.ID, res.Code, res.Winner.Kind, res.Candidate.Source, res.Winner.FinalURL, art.Bytes, art.SHA256, output)
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	// get keeps no job store: the file goes to -o.
	_ = cmd.Flags().MarkHidden("db")
	_ = cmd.Flags().MarkHidden("out")
	addRunFlags(cmd, &rf)
	cmd.Flags().StringVarP(&output, "output", "o", "", "where to save the file (default: a name from the work id in the current directory)")
	return cmd
}

func copyArtifact(cmd *cobra.Command, arts *filestore.Store, path, dst string) error {
	rc, err := arts.Open(cmd.Context(), path)
	if err != nil {
		return asStoreErr(err)
	}
	defer rc.Close()
	var w io.Writer
	if dst == "-" {
		w = cmd.OutOrStdout()
	} else {
		f, err := os.Create(dst)
		if err != nil {
			return usagef("-o %s: %w", dst, err)
		}
		defer f.Close()
		w = f
	}
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}
