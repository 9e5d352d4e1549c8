package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// claimSQL leases up to $5 claimable jobs in one statement: due PLANNED
// jobs, and leased jobs whose lease expired and that still have attempts
// left (those without are failed by Reconcile). Each branch is a range scan
// over a partial index that locks its rows FOR UPDATE SKIP LOCKED, so
// concurrent claimers never wait for each other and never lease one job
// twice. Oldest first means by not_before, then id.
//
//	$1 now  $2 owner  $3 ttl in µs  $4 max attempts  $5 n
const claimSQL = `WITH due AS (
	SELECT id, not_before FROM jobs
	WHERE state = 'PLANNED' AND not_before <= :now
	ORDER BY not_before, id LIMIT $5
	FOR UPDATE SKIP LOCKED
), expired AS (
	SELECT id, not_before FROM jobs
	WHERE lease_until IS NOT NULL AND lease_until <= :now AND attempts < $4
	ORDER BY lease_until, id LIMIT $5
	FOR UPDATE SKIP LOCKED
), pick AS (
	SELECT id FROM (SELECT * FROM due UNION ALL SELECT * FROM expired) u
	ORDER BY not_before, id LIMIT $5
)
UPDATE jobs SET state = 'LEASED', epoch = epoch + 1, attempts = attempts + 1,
	owner = $2, lease_until = :now + $3 * interval '1 microsecond', updated_at = :now
FROM pick WHERE jobs.id = pick.id
RETURNING ` + jobColumnsQ

// Claim leases up to n claimable jobs to owner until now+ttl in one
// statement. Every claimed job moves to LEASED with its epoch and attempt
// counter incremented. Jobs come back oldest first (by not_before, then
// id). n < 1 claims nothing; ttl must be positive.
func (s *Store) Claim(ctx context.Context, owner string, n int, ttl time.Duration) ([]fulltext.Job, error) {
	if n < 1 {
		return nil, nil
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("postgres: claim: lease ttl %v is not positive", ttl)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	rows, err := s.pool.Query(ctx, q(claimSQL), s.now(), owner, micros(ttl), s.maxAttempts, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	slices.SortFunc(jobs, func(a, b fulltext.Job) int {
		return cmp.Or(a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.ID, b.ID))
	})
	return jobs, nil
}

// Renew extends the lease to now+ttl and returns the new expiry. A lease
// that expired but was not yet claimed by anyone else may still be renewed.
// ErrLeaseLost when l is not the job's current lease.
func (s *Store) Renew(ctx context.Context, l fulltext.Lease, ttl time.Duration) (time.Time, error) {
	if ttl <= 0 {
		return time.Time{}, fmt.Errorf("postgres: renew %v: lease ttl %v is not positive", l, ttl)
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("postgres: renew %v: %w", l, err)
	}
	var until []time.Time
	rows, err := s.pool.Query(ctx, q(`UPDATE jobs SET lease_until = :now + $2 * interval '1 microsecond', updated_at = :now
		WHERE id = $3 AND epoch = $4 AND lease_until IS NOT NULL RETURNING lease_until`),
		s.now(), micros(ttl), l.JobID, l.Epoch)
	if err == nil {
		until, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
	}
	if err == nil && len(until) == 0 {
		err = fulltext.ErrLeaseLost
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: renew %v: %w", l, err)
	}
	return until[0].UTC(), nil
}

// Release returns a leased job to PLANNED, due at once, and takes back the
// attempt its claim counted (graceful stop). ErrLeaseLost when l is not the
// job's current lease.
func (s *Store) Release(ctx context.Context, l fulltext.Lease) error {
	err := ctx.Err()
	if err == nil {
		err = execFenced(s.pool.Exec(ctx, q(`UPDATE jobs SET state = 'PLANNED', lease_until = NULL,
			attempts = greatest(attempts - 1, 0), not_before = :now, updated_at = :now
			WHERE id = $2 AND epoch = $3 AND lease_until IS NOT NULL`), s.now(), l.JobID, l.Epoch))
	}
	if err != nil {
		return fmt.Errorf("postgres: release %v: %w", l, err)
	}
	return nil
}

// LeaseLive reports whether l is the job's current lease and has not
// expired: the reconciler leaves that lease's temp artifacts alone.
func (s *Store) LeaseLive(ctx context.Context, l fulltext.Lease) (bool, error) {
	var live bool
	err := s.pool.QueryRow(ctx, q(`SELECT exists (SELECT 1 FROM jobs WHERE id = $2 AND epoch = $3 AND lease_until > :now)`),
		s.now(), l.JobID, l.Epoch).Scan(&live)
	if err != nil {
		return false, fmt.Errorf("postgres: lease live %v: %w", l, err)
	}
	return live, nil
}

// planChunk is the number of works per INSERT … SELECT FROM unnest(…).
const planChunk = 1000

// Plan inserts one PLANNED job per new work in one transaction, in chunks
// of INSERT … SELECT FROM unnest(…) ON CONFLICT (key) DO NOTHING, so that it
// is idempotent also when several processes plan the same works at once.
// New jobs are due at once (not_before is now) and get ids in the order of
// works. A work without an id is an error and nothing is planned.
func (s *Store) Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	if len(works) == 0 {
		return fulltext.PlanResult{}, nil
	}
	for i, w := range works {
		if w.ID.IsZero() {
			return fulltext.PlanResult{}, fmt.Errorf("postgres: plan: work %d has no id", i)
		}
	}
	var created int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		created = 0
		for start := 0; start < len(works); start += planChunk {
			chunk := works[start:min(start+planChunk, len(works))]
			keys := make([]string, len(chunk))
			ids := make([]string, len(chunk))
			bodies := make([]string, len(chunk))
			records := make([][]byte, len(chunk))
			for i, w := range chunk {
				work, record, err := encodeWork(w)
				if err != nil {
					return err
				}
				keys[i], ids[i], bodies[i], records[i] = w.Key(), w.ID.String(), work, record
			}
			tag, err := tx.Exec(ctx, q(`INSERT INTO jobs (key, work_id, work, record, state, not_before, created_at, updated_at)
				SELECT k, i, w, r, 'PLANNED', :now, :now, :now
				FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(k, i, w, r, n)
				ORDER BY n
				ON CONFLICT (key) DO NOTHING`), s.now(), keys, ids, bodies, records)
			if err != nil {
				return err
			}
			created += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return fulltext.PlanResult{}, fmt.Errorf("postgres: plan: %w", err)
	}
	return fulltext.PlanResult{Created: int(created), Existing: len(works) - int(created)}, nil
}
