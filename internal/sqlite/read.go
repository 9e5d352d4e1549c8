package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// eachPage is the number of jobs Each reads per query; no read transaction
// stays open while fn runs, so fn may write to the store.
const eachPage = 1000

// Get returns the job of work id id, found by its idempotency key.
// ErrNotFound when unknown.
func (s *Store) Get(ctx context.Context, id fulltext.WorkID) (fulltext.Job, error) {
	key := keyBytes(fulltext.Work{ID: id}.Key())
	j, err := scanJob(s.r.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		err = fulltext.ErrNotFound
	}
	if err != nil {
		return fulltext.Job{}, fmt.Errorf("sqlite: get %s: %w", id, err)
	}
	return j, nil
}

// Each calls fn for every job in id order, reading a page at a time; jobs
// planned during the walk with higher ids are included. fn's error stops
// the walk and is returned unwrapped.
func (s *Store) Each(ctx context.Context, fn func(fulltext.Job) error) error {
	var after int64
	for {
		page, err := s.jobPage(ctx, after)
		if err != nil {
			return fmt.Errorf("sqlite: each: %w", err)
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

func (s *Store) jobPage(ctx context.Context, after int64) ([]fulltext.Job, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id > ? ORDER BY id LIMIT ?`, after, eachPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []fulltext.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		page = append(page, j)
	}
	return page, rows.Err()
}

// Attempts returns the recorded attempts of a job, oldest first (an empty
// slice for an unknown job).
func (s *Store) Attempts(ctx context.Context, jobID int64) ([]fulltext.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT job_id, epoch, seq, source, host, url, technique, kind,
		http_status, bytes, duration_ns, code, detail, hops, parent, at, version, license
		FROM attempts WHERE job_id = ? ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var out []fulltext.Attempt
	for rows.Next() {
		var (
			a        fulltext.Attempt
			duration int64
			at       int64
			hops     sql.NullString
		)
		if err := rows.Scan(&a.JobID, &a.Epoch, &a.Seq, &a.Source, &a.Host, &a.URL, &a.Technique, &a.Kind,
			&a.HTTPStatus, &a.Bytes, &duration, &a.Code, &a.Detail, &hops, &a.Parent, &at, &a.Version, &a.License); err != nil {
			return nil, fmt.Errorf("sqlite: attempts of job %d: %w", jobID, err)
		}
		a.Duration = time.Duration(duration)
		a.At = fromNanos(at)
		if hops.Valid {
			if err := json.Unmarshal([]byte(hops.String), &a.Hops); err != nil {
				return nil, fmt.Errorf("sqlite: attempts of job %d: hops: %w", jobID, err)
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: attempts of job %d: %w", jobID, err)
	}
	return out, nil
}

// Ledger returns the live ledger rows of a job, oldest first. Rows
// superseded by Requeue or Retry stay in the database for audit but are not
// returned, so a replay never mistakes an earlier run's effect for done.
func (s *Store) Ledger(ctx context.Context, jobID int64) ([]fulltext.LedgerEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT job_id, epoch, op, status, detail, at
		FROM ledger WHERE job_id = ? AND superseded = 0 ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ledger of job %d: %w", jobID, err)
	}
	defer rows.Close()
	var out []fulltext.LedgerEntry
	for rows.Next() {
		var (
			e  fulltext.LedgerEntry
			at int64
		)
		if err := rows.Scan(&e.JobID, &e.Epoch, &e.Op, &e.Status, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("sqlite: ledger of job %d: %w", jobID, err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: ledger of job %d: %w", jobID, err)
	}
	return out, nil
}

// pendingSQL answers Pending from the two partial indexes: a non-terminal
// job is PLANNED (jobs_claim) or holds a lease (jobs_lease: every leased
// state has lease_until > 0 — the claim query relies on it too — and
// Finish, Release and the reconciler clear it).
const pendingSQL = `SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'PLANNED')
	OR EXISTS (SELECT 1 FROM jobs WHERE lease_until > 0)`

// Pending reports whether some job is not terminal (see fulltext.JobStore).
func (s *Store) Pending(ctx context.Context) (bool, error) {
	var pending bool
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, pendingSQL).Scan(&pending)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: pending: %w", err)
	}
	return pending, nil
}

// Stats counts jobs by state, code and outcome (jobs without a code or
// outcome are not counted there), finished jobs with outcome ok by
// Result.Source, and live leases (unexpired, by the store's clock) in total
// and by owner in Workers; OldestLease holds each owner's earliest lease
// expiry. Read from one snapshot.
func (s *Store) Stats(ctx context.Context) (fulltext.Stats, error) {
	st := fulltext.Stats{
		ByState:     map[fulltext.JobState]int{},
		ByCode:      map[fulltext.Code]int{},
		ByOutcome:   map[fulltext.Outcome]int{},
		BySourceOK:  map[string]int{},
		Workers:     map[string]int{},
		OldestLease: map[string]time.Time{},
	}
	now := s.now()
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := eachRow(ctx, tx, `SELECT state, outcome, code, count(*) FROM jobs GROUP BY state, outcome, code`, nil,
			func(rows *sql.Rows) error {
				var (
					state   fulltext.JobState
					outcome fulltext.Outcome
					code    fulltext.Code
					n       int
				)
				if err := rows.Scan(&state, &outcome, &code, &n); err != nil {
					return err
				}
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
		err = eachRow(ctx, tx, `SELECT coalesce(json_extract(result, '$.source'), ''), count(*) FROM jobs
				WHERE outcome = 'ok' AND result IS NOT NULL GROUP BY 1`, nil,
			func(rows *sql.Rows) error {
				var (
					src string
					n   int
				)
				if err := rows.Scan(&src, &n); err != nil {
					return err
				}
				st.BySourceOK[src] += n
				return nil
			})
		if err != nil {
			return err
		}
		return eachRow(ctx, tx, `SELECT owner, count(*), min(lease_until) FROM jobs
				WHERE lease_until > ? GROUP BY owner`, []any{now},
			func(rows *sql.Rows) error {
				var (
					owner string
					n     int
					until int64
				)
				if err := rows.Scan(&owner, &n, &until); err != nil {
					return err
				}
				st.LiveLeases += n
				st.Workers[owner] += n
				st.OldestLease[owner] = fromNanos(until)
				return nil
			})
	})
	if err != nil {
		return fulltext.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	return st, nil
}

// eachRow runs query and calls fn for each row.
func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// GetMeta returns the value stored under key and whether there is one.
func (s *Store) GetMeta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlite: get meta %q: %w", key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key, replacing any earlier value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set meta %q: %w", key, err)
	}
	return nil
}
