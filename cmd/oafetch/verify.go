package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// verifyProblem is one finding of verify.
type verifyProblem struct {
	JobID  int64
	WorkID string
	Path   string
	What   string // "missing", "corrupt", "orphan"
}

func (a *app) verifyCommand() *cobra.Command {
	var (
		sf     storeFlags
		repair bool
	)
	cmd := &cobra.Command{
		Use:   "verify [--repair]",
		Short: "Check that every finalized artifact exists and matches its sha256",
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
			arts, err := a.openArtifactStore(cmd.Context(), &sf, cfg)
			if err != nil {
				return err
			}
			problems, checked, err := verifyStores(cmd.Context(), store, arts)
			if err != nil {
				return asStoreErr(fmt.Errorf("verify: %w", err))
			}
			out := cmd.OutOrStdout()
			for _, p := range problems {
				fmt.Fprintf(out, "%s\t%s\t%s\n", p.What, p.WorkID, p.Path)
			}
			fmt.Fprintf(out, "verified %d artifacts: %d problems\n", checked, len(problems))
			if len(problems) == 0 {
				return nil
			}
			if !repair {
				return fmt.Errorf("%w: %d problems (run verify --repair to re-plan broken works and remove orphans)", errVerify, len(problems))
			}
			for _, p := range problems {
				switch p.What {
				case "orphan":
					err = arts.Remove(cmd.Context(), p.Path)
				default:
					err = store.Requeue(cmd.Context(), p.JobID, "verify: artifact "+p.What)
				}
				if err != nil {
					return asStoreErr(fmt.Errorf("repair %s %s: %w", p.What, p.Path, err))
				}
			}
			fmt.Fprintf(out, "repaired %d problems; run `oafetch work` to fetch re-planned works\n", len(problems))
			return nil
		},
	}
	a.addStoreFlags(cmd, &sf)
	cmd.Flags().BoolVar(&repair, "repair", false, "re-plan works whose artifact is missing or corrupt; remove artifacts no job refers to")
	return cmd
}

// verifyStores hashes every finalized artifact and lists artifacts that no
// job refers to.
func verifyStores(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore) ([]verifyProblem, int, error) {
	var problems []verifyProblem
	known := map[string]bool{}
	checked := 0
	err := store.Each(ctx, func(j fulltext.Job) error {
		if j.Result == nil || j.Result.Path == "" || j.Outcome != fulltext.OutcomeOK {
			return nil
		}
		known[j.Result.Path] = true
		checked++
		what, err := checkArtifact(ctx, arts, j.Result)
		if err != nil {
			return err
		}
		if what != "" {
			problems = append(problems, verifyProblem{JobID: j.ID, WorkID: j.Work.ID.String(), Path: j.Result.Path, What: what})
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	err = arts.Walk(ctx, func(path string, _ int64) error {
		if !known[path] {
			problems = append(problems, verifyProblem{Path: path, What: "orphan"})
		}
		return nil
	})
	return problems, checked, err
}

func checkArtifact(ctx context.Context, arts fulltext.ArtifactStore, res *fulltext.Result) (string, error) {
	rc, err := arts.Open(ctx, res.Path)
	if errorsIsNotFound(err) {
		return "missing", nil
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", err
	}
	if n != res.Bytes || hex.EncodeToString(h.Sum(nil)) != res.SHA256 {
		return "corrupt", nil
	}
	return "", nil
}
