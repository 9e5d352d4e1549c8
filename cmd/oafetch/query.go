package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// errPlanFull stops query paging once --max works are planned.
var errPlanFull = errors.New("--max reached")

// planQuery streams the works of an OpenAlex query into the job store page
// by page, saving the cursor after each page so that a restarted run
// resumes where it stopped; a finished query is not paged again.
func (a *app) planQuery(ctx context.Context, p *planner, in *inputFlags, rt *runtime, store fulltext.JobStore, log *slog.Logger) error {
	oa, ok := rt.sources["openalex"].(*source.OpenAlex)
	if !ok {
		return usagef("--openalex-filter/--topic need the openalex source (it is disabled)")
	}
	q := source.Query{Filter: in.openalexFilter, Topic: in.topic, YearStart: in.yearStart, YearEnd: in.yearEnd, OAOnly: in.oaOnly}
	sum := sha256.Sum256([]byte(q.FilterExpr()))
	key := "openalex-query:" + hex.EncodeToString(sum[:8])
	cursor, _, err := store.GetMeta(ctx, key)
	if err != nil {
		return asStoreErr(fmt.Errorf("query cursor: %w", err))
	}
	if cursor == "done" {
		log.Info("OpenAlex query already planned completely", "filter", q.FilterExpr())
		return nil
	}
	if cursor != "" {
		log.Info("resuming OpenAlex query from its saved cursor", "filter", q.FilterExpr())
	}
	err = oa.Query(ctx, q, cursor, func(works []fulltext.Work, next string) error {
		for _, w := range works {
			if err := p.add(ctx, w); err != nil {
				return err
			}
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		if next == "" {
			next = "done"
		}
		if err := store.SetMeta(ctx, key, next); err != nil {
			return asStoreErr(fmt.Errorf("query cursor: %w", err))
		}
		if p.full() {
			return errPlanFull
		}
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errPlanFull):
		return nil
	case fulltext.CodeOf(err) == fulltext.CodeCreditsExhausted:
		log.Warn("OpenAlex credits exhausted; planned what arrived, run again later to resume from the saved cursor", "err", err)
		return nil
	}
	var se *storeError
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("openalex query %q: %w", q.FilterExpr(), err)
}
