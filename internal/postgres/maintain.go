package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Reconcile bumps, in one transaction, the epoch of every leased job whose
// lease expired (fencing out its holder) and returns it to PLANNED, due at
// once; a job that has used all its attempts becomes FAILED with code
// internal and a detail naming the lost lease. The expired rows are locked
// FOR UPDATE SKIP LOCKED, so reconcilers in several processes split the
// work and each job recovered is reported once.
func (s *Store) Reconcile(ctx context.Context) ([]fulltext.Recovery, error) {
	var out []fulltext.Recovery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		type expired struct {
			id, epoch     int64
			workID, owner string
			state         fulltext.JobState
			attempts      int
			leaseUntil    time.Time
		}
		rows, err := tx.Query(ctx, q(`SELECT id, epoch, work_id, owner, state, attempts, lease_until
			FROM jobs WHERE lease_until IS NOT NULL AND lease_until <= :now ORDER BY id FOR UPDATE SKIP LOCKED`), s.now())
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (expired, error) {
			var e expired
			err := row.Scan(&e.id, &e.epoch, &e.workID, &e.owner, &e.state, &e.attempts, &e.leaseUntil)
			return e, err
		})
		if err != nil || len(list) == 0 {
			return err
		}
		var b pgx.Batch
		for _, e := range list {
			lost := fmt.Sprintf("lease of %q (epoch %d) expired at %s in state %s",
				e.owner, e.epoch, e.leaseUntil.UTC().Format("2006-01-02T15:04:05.999999999Z"), e.state)
			rec := fulltext.Recovery{JobID: e.id, WorkID: e.workID}
			if e.attempts >= s.maxAttempts {
				rec.Action = "attempts_exhausted"
				rec.Detail = fmt.Sprintf("attempts exhausted: %d of %d used; %s", e.attempts, s.maxAttempts, lost)
				b.Queue(q(`UPDATE jobs SET state = 'FAILED', epoch = epoch + 1, lease_until = NULL,
					outcome = $2, code = $3, detail = $4, updated_at = :now WHERE id = $5 AND epoch = $6`),
					s.now(), fulltext.OutcomeError, fulltext.CodeInternal, rec.Detail, e.id, e.epoch)
			} else {
				rec.Action = "lease_expired"
				rec.Detail = lost
				b.Queue(q(`UPDATE jobs SET state = 'PLANNED', epoch = epoch + 1, lease_until = NULL,
					not_before = :now, updated_at = :now WHERE id = $2 AND epoch = $3`), s.now(), e.id, e.epoch)
			}
			out = append(out, rec)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reconcile: %w", err)
	}
	return out, nil
}

// requeueSet is the SET clause shared by Requeue and Retry: PLANNED, due
// now, epoch bumped, attempts, outcome, code and result cleared.
//
//	$1 now  $2 detail
const requeueSet = `SET state = 'PLANNED', epoch = epoch + 1, attempts = 0, lease_until = NULL,
	not_before = :now, outcome = '', code = '', detail = $2, result = NULL, updated_at = :now`

// Requeue returns a terminal job to PLANNED, due at once, with its epoch
// bumped, its attempts reset, its outcome, code and result cleared and
// "requeued: reason" as its detail; its earlier ledger rows are superseded.
// ErrNotFound for an unknown job; a job that is not terminal is left alone
// with an error wrapping ErrBadTransition.
func (s *Store) Requeue(ctx context.Context, jobID int64, reason string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var st fulltext.JobState
		err := tx.QueryRow(ctx, `SELECT state FROM jobs WHERE id = $1 FOR UPDATE`, jobID).Scan(&st)
		if errors.Is(err, pgx.ErrNoRows) {
			return fulltext.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !st.Terminal() {
			return fmt.Errorf("requeue from %s: %w", st, fulltext.ErrBadTransition)
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger SET superseded = true WHERE job_id = $1 AND NOT superseded`, jobID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, q(`UPDATE jobs `+requeueSet+` WHERE id = $3`), s.now(), "requeued: "+reason, jobID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: requeue job %d: %w", jobID, err)
	}
	return nil
}

// Retry re-plans, as Requeue does, every terminal job whose code is one of
// f.Codes or, with f.AllRetryable, is retryable (fulltext.Code.Retryable).
// An empty filter matches nothing. It returns how many jobs it re-planned.
func (s *Store) Retry(ctx context.Context, f fulltext.RetryFilter) (int, error) {
	var codes []string
	for _, c := range f.Codes {
		codes = append(codes, string(c))
	}
	if f.AllRetryable {
		for _, c := range fulltext.Codes() {
			if c.Retryable() {
				codes = append(codes, string(c))
			}
		}
	}
	if len(codes) == 0 {
		return 0, nil
	}
	match := func(param string) string {
		return `state IN ('FINALIZED', 'INDEXED', 'DEDUPED', 'FAILED', 'SKIPPED_DUPLICATE') AND code = ANY(` + param + `::text[])`
	}
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Lock the matching jobs first, in id order, so that two retries
		// cannot deadlock and the ledger update sees the same set.
		if _, err := tx.Exec(ctx, `SELECT id FROM jobs WHERE `+match("$1")+` ORDER BY id FOR UPDATE`,
			codes); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger SET superseded = true WHERE NOT superseded
				AND job_id IN (SELECT id FROM jobs WHERE `+match("$1")+`)`, codes); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, q(`UPDATE jobs `+requeueSet+` WHERE `+match("$3")), s.now(), "requeued: retry", codes)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: retry: %w", err)
	}
	return int(n), nil
}
