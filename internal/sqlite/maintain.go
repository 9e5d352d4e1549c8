package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Reconcile bumps, in one immediate transaction, the epoch of every leased
// job whose lease expired (fencing out its holder) and returns it to
// PLANNED, due at once and keeping its place in the queue (its not_before,
// which precedes its claim, is kept); a job that has used all its attempts becomes FAILED
// with code internal and a detail naming the lost lease. Each job recovered
// is reported once: a concurrent or repeated Reconcile finds nothing more
// to do. Safe to run in several processes at once.
func (s *Store) Reconcile(ctx context.Context) ([]fulltext.Recovery, error) {
	var out []fulltext.Recovery
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := s.now()
		type expired struct {
			id, epoch     int64
			workID, owner string
			state         fulltext.JobState
			attempts      int
			leaseUntil    int64
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, epoch, work_id, owner, state, attempts, lease_until
			FROM jobs WHERE lease_until > 0 AND lease_until <= ? ORDER BY id`, now)
		if err != nil {
			return err
		}
		var list []expired
		for rows.Next() {
			var e expired
			if err := rows.Scan(&e.id, &e.epoch, &e.workID, &e.owner, &e.state, &e.attempts, &e.leaseUntil); err != nil {
				rows.Close()
				return err
			}
			list = append(list, e)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, e := range list {
			lost := fmt.Sprintf("lease of %q (epoch %d) expired at %s in state %s",
				e.owner, e.epoch, fromNanos(e.leaseUntil).Format("2006-01-02T15:04:05.999999999Z"), e.state)
			rec := fulltext.Recovery{JobID: e.id, WorkID: e.workID}
			if e.attempts >= s.maxAttempts {
				rec.Action = "attempts_exhausted"
				rec.Detail = fmt.Sprintf("attempts exhausted: %d of %d used; %s", e.attempts, s.maxAttempts, lost)
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'FAILED', epoch = epoch + 1, lease_until = 0,
					outcome = ?, code = ?, detail = ?, updated_at = ? WHERE id = ? AND epoch = ?`,
					fulltext.OutcomeError, fulltext.CodeInternal, rec.Detail, now, e.id, e.epoch)
			} else {
				rec.Action = "lease_expired"
				rec.Detail = lost
				_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'PLANNED', epoch = epoch + 1, lease_until = 0,
					updated_at = ? WHERE id = ? AND epoch = ?`, now, e.id, e.epoch)
			}
			if err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: reconcile: %w", err)
	}
	return out, nil
}

// requeueSet is the SET clause shared by Requeue and Retry: PLANNED, due
// now, epoch bumped, attempts, outcome, code and result cleared.
//
//	?1 now  ?2 detail
const requeueSet = `SET state = 'PLANNED', epoch = epoch + 1, attempts = 0, lease_until = 0,
	not_before = ?1, outcome = '', code = '', detail = ?2, result = NULL, updated_at = ?1`

// Requeue returns a terminal job to PLANNED, due at once, with its epoch
// bumped, its attempts reset, its outcome, code and result cleared and
// "requeued: reason" as its detail; its earlier ledger rows are superseded.
// ErrNotFound for an unknown job; a job that is not terminal is left alone
// with an error wrapping ErrBadTransition.
func (s *Store) Requeue(ctx context.Context, jobID int64, reason string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var st fulltext.JobState
		err := tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = ?`, jobID).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return fulltext.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !st.Terminal() {
			return fmt.Errorf("requeue from %s: %w", st, fulltext.ErrBadTransition)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ledger SET superseded = 1 WHERE job_id = ? AND superseded = 0`, jobID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE jobs `+requeueSet+` WHERE id = ?3`, s.now(), "requeued: "+reason, jobID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: requeue job %d: %w", jobID, err)
	}
	return nil
}

// Retry re-plans, as Requeue does, every terminal job whose code is one of
// f.Codes or, with f.AllRetryable, is retryable (fulltext.Code.Retryable).
// An empty filter matches nothing. It returns how many jobs it re-planned.
func (s *Store) Retry(ctx context.Context, f fulltext.RetryFilter) (int, error) {
	codes := append([]fulltext.Code(nil), f.Codes...)
	if f.AllRetryable {
		for _, c := range fulltext.Codes() {
			if c.Retryable() {
				codes = append(codes, c)
			}
		}
	}
	if len(codes) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(codes)+2)
	args = append(args, s.now(), "requeued: retry")
	for _, c := range codes {
		args = append(args, string(c))
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(codes)), ", ") + ")"
	match := `state IN ('FINALIZED', 'INDEXED', 'DEDUPED', 'FAILED', 'SKIPPED_DUPLICATE') AND code IN ` + in
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE ledger SET superseded = 1 WHERE superseded = 0
				AND job_id IN (SELECT id FROM jobs WHERE `+match+`)`, args[2:]...); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE jobs `+requeueSet+` WHERE `+match, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: retry: %w", err)
	}
	return int(n), nil
}
