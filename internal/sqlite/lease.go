package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// claimSQL leases up to ?5 claimable jobs in one statement: PLANNED jobs
// that are due, and leased jobs whose lease expired and that still have
// attempts left (those without are failed by Reconcile). Both branches are
// range scans over a partial index. Oldest first means by not_before, then
// id; claiming does not change not_before.
//
//	?1 owner  ?2 lease_until  ?3 now  ?4 max attempts; %[1]d is n, a literal
//	because SQLite re-prepares a statement on every new LIMIT binding.
const claimSQL = `UPDATE jobs SET state = 'LEASED', epoch = epoch + 1, attempts = attempts + 1,
	owner = ?1, lease_until = ?2, updated_at = ?3
WHERE id IN (
	SELECT id FROM (
		SELECT id, not_before FROM (
			SELECT id, not_before FROM jobs
			WHERE state = 'PLANNED' AND not_before <= ?3
			ORDER BY not_before, id LIMIT %[1]d)
		UNION ALL
		SELECT id, not_before FROM (
			SELECT id, not_before FROM jobs
			WHERE lease_until > 0 AND lease_until <= ?3 AND attempts < ?4
			ORDER BY lease_until, id LIMIT %[1]d)
	) ORDER BY not_before, id LIMIT %[1]d)
RETURNING ` + jobColumns

// Claim leases up to n claimable jobs to owner until now+ttl in one
// immediate transaction. Every claimed job moves to LEASED with its epoch
// and attempt counter incremented. Jobs come back oldest first (by
// not_before, then id). n < 1 claims nothing; ttl must be positive.
func (s *Store) Claim(ctx context.Context, owner string, n int, ttl time.Duration) ([]fulltext.Job, error) {
	if n < 1 {
		return nil, nil
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("sqlite: claim: lease ttl %v is not positive", ttl)
	}
	// Prepared outside the transaction: the writer pool has one connection.
	stmt, err := s.claimStmt(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	var jobs []fulltext.Job
	// In a group transaction with the lease writes of the workers this
	// claim feeds: one commit for both.
	err = s.writeLease(ctx, func(ctx context.Context, tx *sql.Tx) error {
		jobs = jobs[:0]
		now := s.clock.Now()
		args := []any{owner, now.Add(ttl).UnixNano(), now.UnixNano(), s.maxAttempts}
		var (
			rows *sql.Rows
			err  error
		)
		if stmt != nil {
			rows, err = tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
		} else {
			rows, err = tx.QueryContext(ctx, fmt.Sprintf(claimSQL, n), args...)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
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
		return time.Time{}, fmt.Errorf("sqlite: renew %v: lease ttl %v is not positive", l, ttl)
	}
	var until time.Time
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.clock.Now()
		until = now.Add(ttl)
		res, err := tx.StmtContext(ctx, s.st.renew).ExecContext(ctx, until.UnixNano(), now.UnixNano(), l.JobID, l.Epoch)
		return fencedResult(res, err)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: renew %v: %w", l, err)
	}
	return until.UTC(), nil
}

// Release returns a leased job to PLANNED, due at once and keeping its
// place in the queue (not_before is unchanged), and takes back the attempt
// its claim counted (graceful stop). ErrLeaseLost when l is not the
// job's current lease.
func (s *Store) Release(ctx context.Context, l fulltext.Lease) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now()
		res, err := tx.StmtContext(ctx, s.st.release).ExecContext(ctx, now, l.JobID, l.Epoch)
		return fencedResult(res, err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: release %v: %w", l, err)
	}
	return nil
}

// fencedResult turns a fenced UPDATE's result into ErrLeaseLost when it
// matched no row.
func fencedResult(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fulltext.ErrLeaseLost
	}
	return nil
}

// fence returns the state and attempt count of the job when l is its
// current lease (same epoch, leased state), else ErrLeaseLost. Run inside a
// write transaction, its answer holds until commit.
func (s *Store) fence(ctx context.Context, tx *sql.Tx, l fulltext.Lease) (fulltext.JobState, int, error) {
	var (
		st       fulltext.JobState
		attempts int
	)
	err := tx.StmtContext(ctx, s.st.fence).QueryRowContext(ctx, l.JobID, l.Epoch).Scan(&st, &attempts)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !st.Leased() {
		return "", 0, fulltext.ErrLeaseLost
	}
	return st, attempts, err
}
