package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
	"github.com/oafetch/oafetch/internal/worker"
)

// errPlanFull stops query paging once --max works are planned.
var errPlanFull = errors.New("--max reached")

// errQueryPaused reports an OpenAlex query that stopped before its end
// because the daily allowance is spent: what arrived is planned, the cursor
// is saved, and running the same command again resumes (exit 3).
var errQueryPaused = errors.New("OpenAlex daily allowance spent: the query is paused at its saved cursor; run the same command again to resume")

// planQuery streams the works of an OpenAlex query into the job store page
// by page, saving the cursor after each page so that a restarted run
// resumes where it stopped; a finished query is not paged again.
func (a *app) planQuery(ctx context.Context, p *planner, in *inputFlags, rt *runtime, store fulltext.JobStore, log *slog.Logger) error {
	oa, ok := rt.sources["openalex"].(*source.OpenAlex)
	if !ok {
		return usagef("--openalex-filter/--topic need the openalex source (it is disabled)")
	}
	q := source.Query{Filter: in.openalexFilter, Topic: in.topic, YearStart: in.yearStart, YearEnd: in.yearEnd, OAOnly: in.oaOnly}
	if q.Topic != "" {
		id, name, err := oa.ResolveTopic(ctx, q.Topic)
		switch {
		case fulltext.CodeOf(err) == fulltext.CodeNotFound:
			return usagef("--topic %q: %w", in.topic, err)
		case fulltext.CodeOf(err) == fulltext.CodeCreditsExhausted:
			return fmt.Errorf("--topic %q: %w: %w", in.topic, errQueryPaused, err)
		case err != nil:
			return fmt.Errorf("--topic %q: %w", in.topic, err)
		case name != "":
			log.Info("topic resolved", "topic", in.topic, "id", id, "name", name)
		}
		q.Topic = id
	}
	sum := sha256.Sum256([]byte(q.FilterExpr()))
	key := "openalex-query:" + hex.EncodeToString(sum[:8])
	raw, _, err := store.GetMeta(ctx, key)
	if err != nil {
		return asStoreErr(fmt.Errorf("query cursor: %w", err))
	}
	prog := parseQueryProgress(raw)
	if prog.Cursor == queryDone {
		log.Info("OpenAlex query already planned completely", "filter", q.FilterExpr(), "works", prog.Planned)
		return nil
	}
	// --max bounds the whole query, across interrupted runs.
	limit := 0
	if in.max > 0 {
		limit = in.max - prog.Planned
		if limit <= 0 {
			log.Info("OpenAlex query already planned up to --max", "filter", q.FilterExpr(), "works", prog.Planned)
			return nil
		}
	}
	if prog.Cursor != "" {
		log.Info("resuming OpenAlex query from its saved cursor", "filter", q.FilterExpr(), "planned", prog.Planned)
	}
	// The first SIGINT/SIGTERM stops paging at once: the page in flight is
	// asked again by the next run (planning has nothing to finish).
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.stop != nil {
		defer context.AfterFunc(a.stop, cancel)()
	}
	taken := 0
	err = oa.Query(qctx, q, prog.Cursor, func(works []fulltext.Work, next string) error {
		// A page already partly planned by a run that hit --max: skip what
		// that run took.
		works = works[min(prog.Skip, len(works)):]
		skipped := prog.Skip
		prog.Skip = 0
		n := 0
		for _, w := range works {
			if (limit > 0 && taken >= limit) || p.full() {
				break
			}
			if err := p.add(ctx, w); err != nil {
				return err
			}
			n++
			taken++
		}
		if err := p.flush(ctx); err != nil {
			return err
		}
		prog.Planned += n
		full := (limit > 0 && taken >= limit) || p.full()
		if n < len(works) {
			// Stopped inside the page: keep its cursor, remember how far.
			prog.Skip = skipped + n
		} else {
			prog.Cursor = cmp.Or(next, queryDone)
		}
		if err := store.SetMeta(ctx, key, prog.String()); err != nil {
			return asStoreErr(fmt.Errorf("query cursor: %w", err))
		}
		if full {
			return errPlanFull
		}
		return nil
	})
	if a.stop != nil && a.stop.Err() != nil && !errors.Is(err, errPlanFull) {
		log.Warn("interrupted: the OpenAlex query resumes from its saved cursor on the next run", "planned", prog.Planned)
		return worker.ErrStopped
	}
	switch {
	case err == nil, errors.Is(err, errPlanFull):
		return nil
	case fulltext.CodeOf(err) == fulltext.CodeCreditsExhausted:
		log.Warn("OpenAlex credits exhausted; planned what arrived, run again later to resume from the saved cursor", "err", err)
		return fmt.Errorf("%w (%w)", errQueryPaused, err)
	}
	var se *storeError
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("openalex query %q: %w", q.FilterExpr(), err)
}

// queryDone is the saved cursor of a query paged to its end.
const queryDone = "done"

// queryProgress is what the job store keeps of an OpenAlex query between
// runs: the cursor of the next page to ask for, how many works the query
// planned in all, and how many works of that page a run stopped by --max
// already took.
type queryProgress struct {
	Cursor  string `json:"cursor"`
	Planned int    `json:"planned"`
	Skip    int    `json:"skip,omitempty"`
}

// parseQueryProgress reads a saved progress; a bare value is a cursor as
// earlier versions saved it.
func parseQueryProgress(raw string) queryProgress {
	var p queryProgress
	if strings.HasPrefix(raw, "{") && json.Unmarshal([]byte(raw), &p) == nil {
		return p
	}
	return queryProgress{Cursor: raw}
}

func (p queryProgress) String() string {
	b, _ := json.Marshal(p)
	return string(b)
}
