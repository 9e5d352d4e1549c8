package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// eachPage is the number of jobs Each reads per query; no transaction stays
// open while fn runs, so fn may write to the store.
const eachPage = 1000

// Get returns the job of work id id, found by its idempotency key.
// ErrNotFound when unknown.
func (s *Store) Get(ctx context.Context, id fulltext.WorkID) (fulltext.Job, error) {
	key := fulltext.Work{ID: id}.Key()
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumnsQ+` FROM jobs WHERE key = $1`, key)
	var j fulltext.Job
	if err == nil {
		j, err = pgx.CollectExactlyOneRow(rows, scanJob)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = fulltext.ErrNotFound
	}
	if err != nil {
		return fulltext.Job{}, fmt.Errorf("postgres: get %s: %w", id, err)
	}
	return j, nil
}

// Each calls fn for every job in id order, reading a page at a time; jobs
// planned during the walk with higher ids are included. fn's error stops
// the walk and is returned unwrapped.
func (s *Store) Each(ctx context.Context, fn func(fulltext.Job) error) error {
	var after int64
	for {
		rows, err := s.pool.Query(ctx, `SELECT `+jobColumnsQ+` FROM jobs WHERE id > $1 ORDER BY id LIMIT $2`, after, eachPage)
		var page []fulltext.Job
		if err == nil {
			page, err = pgx.CollectRows(rows, scanJob)
		}
		if err != nil {
			return fmt.Errorf("postgres: each: %w", err)
		}
		for _, j := range page {
			if err := fn(j); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// Attempts returns the recorded attempts of a job, oldest first (an empty
// slice for an unknown job).
func (s *Store) Attempts(ctx context.Context, jobID int64) ([]fulltext.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT job_id, epoch, seq, source, host, url, technique, kind,
		http_status, bytes, duration_ns, code, detail, hops, parent, at, version, license
		FROM attempts WHERE job_id = $1 ORDER BY id`, jobID)
	var out []fulltext.Attempt
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (fulltext.Attempt, error) {
			var (
				a        fulltext.Attempt
				duration int64
				at       *time.Time
				hops     *string
			)
			if err := row.Scan(&a.JobID, &a.Epoch, &a.Seq, &a.Source, &a.Host, &a.URL, &a.Technique, &a.Kind,
				&a.HTTPStatus, &a.Bytes, &duration, &a.Code, &a.Detail, &hops, &a.Parent, &at, &a.Version, &a.License); err != nil {
				return a, err
			}
			a.Duration = time.Duration(duration)
			a.At = fromTS(at)
			if hops != nil {
				if err := json.Unmarshal([]byte(*hops), &a.Hops); err != nil {
					return a, fmt.Errorf("hops: %w", err)
				}
			}
			return a, nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: attempts of job %d: %w", jobID, err)
	}
	return out, nil
}

// Ledger returns the live ledger rows of a job, oldest first. Rows
// superseded by Requeue or Retry stay in the database for audit but are not
// returned, so a replay never mistakes an earlier run's effect for done.
func (s *Store) Ledger(ctx context.Context, jobID int64) ([]fulltext.LedgerEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT job_id, epoch, op, status, detail, at
		FROM ledger WHERE job_id = $1 AND NOT superseded ORDER BY id`, jobID)
	var out []fulltext.LedgerEntry
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (fulltext.LedgerEntry, error) {
			var e fulltext.LedgerEntry
			err := row.Scan(&e.JobID, &e.Epoch, &e.Op, &e.Status, &e.Detail, &e.At)
			e.At = e.At.UTC()
			return e, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: ledger of job %d: %w", jobID, err)
	}
	return out, nil
}

// Pending reports whether some job is not terminal (see
// fulltext.JobStore), from the two partial indexes: a non-terminal job is
// PLANNED (jobs_claim) or holds a lease (jobs_lease: lease_until is set in
// every leased state and cleared by Finish, Release and the reconciler).
func (s *Store) Pending(ctx context.Context) (bool, error) {
	var pending bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'PLANNED')
		OR EXISTS (SELECT 1 FROM jobs WHERE lease_until IS NOT NULL)`).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("postgres: pending: %w", err)
	}
	return pending, nil
}

// Stats counts jobs by state, code and outcome (jobs without a code or
// outcome are not counted there), finished jobs with outcome ok by
// Result.Source, and live leases (unexpired, by database time) in total
// and by owner in Workers; OldestLease holds each owner's earliest lease
// expiry. Read from one REPEATABLE READ snapshot.
func (s *Store) Stats(ctx context.Context) (fulltext.Stats, error) {
	st := fulltext.Stats{
		ByState:     map[fulltext.JobState]int{},
		ByCode:      map[fulltext.Code]int{},
		ByOutcome:   map[fulltext.Outcome]int{},
		BySourceOK:  map[string]int{},
		Workers:     map[string]int{},
		OldestLease: map[string]time.Time{},
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT state, outcome, code, count(*) FROM jobs GROUP BY state, outcome, code`)
		var (
			state   fulltext.JobState
			outcome fulltext.Outcome
			code    fulltext.Code
			n       int
		)
		_, err := pgx.ForEachRow(rows, []any{&state, &outcome, &code, &n}, func() error {
			st.Total += n
			st.ByState[state] += n
			if outcome != "" {
				st.ByOutcome[outcome] += n
			}
			if code != "" {
				st.ByCode[code] += n
			}
			return nil
		})
		if err != nil {
			return err
		}
		var src string
		rows, _ = tx.Query(ctx, `SELECT coalesce(result->>'source', ''), count(*) FROM jobs
			WHERE outcome = 'ok' AND result IS NOT NULL GROUP BY 1`)
		_, err = pgx.ForEachRow(rows, []any{&src, &n}, func() error {
			st.BySourceOK[src] += n
			return nil
		})
		if err != nil {
			return err
		}
		var (
			owner string
			until time.Time
		)
		rows, _ = tx.Query(ctx, q(`SELECT owner, count(*), min(lease_until) FROM jobs
			WHERE lease_until > :now GROUP BY owner`), s.now())
		_, err = pgx.ForEachRow(rows, []any{&owner, &n, &until}, func() error {
			st.LiveLeases += n
			st.Workers[owner] += n
			st.OldestLease[owner] = until.UTC()
			return nil
		})
		return err
	})
	if err != nil {
		return fulltext.Stats{}, fmt.Errorf("postgres: stats: %w", err)
	}
	return st, nil
}

// GetMeta returns the value stored under key and whether there is one.
func (s *Store) GetMeta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: get meta %q: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	err := ctx.Err()
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	}
	if err != nil {
		return fmt.Errorf("postgres: set meta %q: %w", key, err)
	}
	return nil
}

// ListMeta returns every meta key that begins with prefix, with its value.
// The prefix is matched literally (starts_with, not LIKE) and
// case-sensitively. An empty map when nothing matches.
func (s *Store) ListMeta(ctx context.Context, prefix string) (map[string]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT key, value FROM meta WHERE starts_with(key, $1)`, prefix)
	out := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: list meta %q: %w", prefix, err)
	}
	return out, nil
}
