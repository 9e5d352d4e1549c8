package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"

	_ "modernc.org/sqlite" // the job store file, to finish most jobs at once
)

// p4flat: is the RSS of a worker flat in the number of works planned? For
// each store size (n/10 and n works planned), the first -active jobs stay
// PLANNED and all others are marked finished (FAILED, absent) directly in
// the store file, as a store full of done works would be; then `oafetch
// work` processes the active jobs (OpenAlex ids that resolve to nothing)
// and its peak RSS (wait4) is compared across sizes. The worker still
// meets every job of the store: the reconciler's scan, Stats.
func (e *env) p4flat(ctx context.Context, out io.Writer) error {
	sizes := []int{max(e.o.n/10, e.o.active), e.o.n}
	rss := map[int][]int64{}
	walls := map[int][]time.Duration{}
	for r := range e.o.runs {
		for _, n := range sizes {
			res, plan, err := e.p4flatRun(ctx, r, n)
			if err != nil {
				return err
			}
			rss[n], walls[n] = append(rss[n], res.maxRSS), append(walls[n], res.wall)
			fmt.Fprintf(out, "P4flat run=%d planned=%d active=%d workers=%d work=%s cpu=%s maxrss=%dMiB plan=%s (maxrss %dMiB) load=%s\n",
				r+1, n, e.o.active, e.o.workers, secs(res.wall), secs(res.cpu), res.maxRSS>>10, secs(plan.wall), plan.maxRSS>>10, loadavg())
		}
	}
	small, large := medianInt(rss[sizes[0]]), medianInt(rss[sizes[1]])
	fmt.Fprintf(out, "P4flat median of %d: active=%d planned=%d maxrss=%dMiB (work %s) planned=%d maxrss=%dMiB (work %s) growth=%+dMiB\n",
		e.o.runs, e.o.active, sizes[0], small>>10, secs(median(walls[sizes[0]])), sizes[1], large>>10, secs(median(walls[sizes[1]])), (large-small)>>10)
	return nil
}

// p4flatRun plans n works, finishes all but the first active ones and
// runs the worker over those; it returns the work and the plan runs.
func (e *env) p4flatRun(ctx context.Context, r, n int) (result, result, error) {
	in := filepath.Join(e.o.dir, fmt.Sprintf("p4flat-%d.txt", n))
	if _, err := os.Stat(in); err != nil {
		if err := writeLines(in, n, func(i int) string { return fmt.Sprintf("W%d", 8_000_000_000+i) }); err != nil {
			return result{}, result{}, err
		}
	}
	od := filepath.Join(e.o.dir, fmt.Sprintf("p4flat-%d-%d", n, r))
	defer os.RemoveAll(od)
	plan, err := e.oafetch(ctx, "plan", od, "--input", in)
	if err != nil {
		return result{}, result{}, err
	}
	if err := finishAllBut(ctx, filepath.Join(od, ".oafetch", "jobs.sqlite"), e.o.active); err != nil {
		return result{}, result{}, err
	}
	res, err := e.oafetch(ctx, "work", od, "--workers", fmt.Sprint(e.o.workers))
	if err != nil {
		return result{}, result{}, err
	}
	// The active works resolve to nothing: all of them, and only they, end
	// not-found.
	if m := notFound.FindStringSubmatch(res.out); m == nil || m[1] != strconv.Itoa(e.o.active) {
		return result{}, result{}, fmt.Errorf("P4flat: work over %d active jobs said %q", e.o.active, tail(res.out))
	}
	return res, plan, nil
}

var notFound = regexp.MustCompile(`not-found\s+(\d+)`)

// finishAllBut marks every job but the first active (by id, the claim
// order) as finished: FAILED, absent, no OA location.
func finishAllBut(ctx context.Context, path string, active int) error {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now().UnixNano()
	_, err = db.ExecContext(ctx, `UPDATE jobs SET state = ?, outcome = ?, code = ?, attempts = 1, updated_at = ?
		WHERE id NOT IN (SELECT id FROM jobs ORDER BY id LIMIT ?)`,
		fulltext.StateFailed, fulltext.OutcomeAbsent, fulltext.CodeNoOALocation, now, active)
	if err != nil {
		return fmt.Errorf("finish jobs in %s: %w", path, err)
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
