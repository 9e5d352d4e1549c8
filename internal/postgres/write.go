package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Step writes one ledger row and, when s.To is set, moves the job to s.To,
// in one transaction. s.To must be a leased state the machine allows from
// the current one (terminal states are reached through Finish), and a
// completed FINALIZE is written only by Finish; otherwise the error wraps
// ErrBadTransition and nothing is written. ErrLeaseLost when l is not the
// job's current lease.
func (s *Store) Step(ctx context.Context, l fulltext.Lease, st fulltext.Step) error {
	if err := st.Validate(); err != nil {
		return fmt.Errorf("postgres: step %v: %w", l, err)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		cur, _, err := fence(ctx, tx, l)
		if err != nil {
			return err
		}
		if st.To != "" {
			if !st.To.Leased() || !fulltext.CanTransition(cur, st.To) {
				return fmt.Errorf("%s → %s: %w", cur, st.To, fulltext.ErrBadTransition)
			}
			if _, err := tx.Exec(ctx, q(`UPDATE jobs SET state = $2, updated_at = :now WHERE id = $3 AND epoch = $4`),
				s.now(), st.To, l.JobID, l.Epoch); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, q(`INSERT INTO ledger (job_id, epoch, op, status, detail, at) VALUES ($2, $3, $4, $5, $6, :now)`),
			s.now(), l.JobID, l.Epoch, st.Op, st.Status, st.Detail)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: step %v: %w", l, err)
	}
	return nil
}

// Finish ends the attempt with f in one transaction. f.State must be one of
// FINALIZED, DEDUPED, FAILED, SKIPPED_DUPLICATE or PLANNED and allowed from
// the job's state, else the error wraps ErrBadTransition. FINALIZED and
// DEDUPED write the job's one live completed FINALIZE ledger row. PLANNED
// keeps the attempt count and makes the job due at f.NotBefore (now when
// zero or past); a job that has used all its attempts becomes FAILED
// instead, keeping f's outcome and code so that a retry by code finds it.
// f.Attempts are recorded in the same transaction. ErrLeaseLost when l is
// not the job's current lease; a failed Finish writes nothing.
func (s *Store) Finish(ctx context.Context, l fulltext.Lease, f fulltext.Finish) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("postgres: finish %v: %w", l, err)
	}
	result, err := encodeResult(f.Result)
	if err != nil {
		return fmt.Errorf("postgres: finish %v: %w", l, err)
	}
	var from []string // the leased states f.State may be reached from
	for _, st := range fulltext.AllStates {
		if st.Leased() && fulltext.CanTransition(st, f.State) {
			from = append(from, string(st))
		}
	}
	finish := func(ctx context.Context, db interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}) error {
		var cur, next *string
		err := db.QueryRow(ctx, q(finishSQL), s.now(), l.JobID, l.Epoch, f.State, from, s.maxAttempts,
			tsArg(f.NotBefore), f.Outcome, f.Code, f.Detail, result).Scan(&cur, &next)
		switch {
		case err != nil:
			return err
		case cur == nil || !fulltext.JobState(*cur).Leased():
			return fulltext.ErrLeaseLost
		case next == nil:
			return fmt.Errorf("%s → %s: %w", *cur, f.State, fulltext.ErrBadTransition)
		}
		return nil
	}
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case len(f.Attempts) == 0:
		// One statement: one round trip, one implicit transaction.
		err = finish(ctx, s.pool)
	default:
		err = s.tx(ctx, func(tx pgx.Tx) error {
			if err := finish(ctx, tx); err != nil {
				return err
			}
			return insertAttempts(ctx, tx, l, f.Attempts)
		})
	}
	if err != nil {
		return fmt.Errorf("postgres: finish %v: %w", l, err)
	}
	return nil
}

// finishSQL ends an attempt in one statement (one round trip, one implicit
// transaction): it locks the job row by (id, epoch), updates it when its
// state is one f.State may be reached from, and writes the FINALIZE ledger
// row when the new state is FINALIZED or DEDUPED. It returns the state
// before (NULL: no such lease) and after (NULL: nothing changed). A retry
// (PLANNED) of a job that has used all its attempts becomes FAILED.
//
//	$1 now  $2 id  $3 epoch  $4 state  $5 from states  $6 max attempts
//	$7 not_before  $8 outcome  $9 code  $10 detail  $11 result
const finishSQL = `WITH cur AS (
	SELECT id, state, attempts, (attempts >= $6 AND $4::text = 'PLANNED') AS exhausted
	FROM jobs WHERE id = $2 AND epoch = $3 FOR UPDATE
), upd AS (
	UPDATE jobs SET
		state = CASE WHEN cur.exhausted THEN 'FAILED' ELSE $4::text END,
		lease_until = NULL,
		not_before = CASE WHEN $4::text = 'PLANNED' AND NOT cur.exhausted
			THEN greatest(coalesce($7::timestamptz, :now), :now) ELSE jobs.not_before END,
		outcome = $8, code = $9,
		detail = CASE WHEN cur.exhausted
			THEN trim(format('%s (attempts exhausted: %s of %s used)', $10::text, cur.attempts, $6::integer))
			ELSE $10::text END,
		result = $11::jsonb, updated_at = :now
	FROM cur WHERE jobs.id = cur.id AND jobs.epoch = $3 AND cur.state = ANY($5::text[])
	RETURNING jobs.id, jobs.state
), fin AS (
	INSERT INTO ledger (job_id, epoch, op, status, detail, at)
	SELECT upd.id, $3, 'FINALIZE', 'completed', upd.state, :now FROM upd
	WHERE upd.state IN ('FINALIZED', 'DEDUPED')
)
SELECT (SELECT state FROM cur), (SELECT state FROM upd)`

// AddAttempts records the attempts of the claim l, stamping each with the
// lease's job id and epoch. It needs only l's epoch to be current, so it may
// follow Finish; after a later claim it returns ErrLeaseLost and writes
// nothing.
func (s *Store) AddAttempts(ctx context.Context, l fulltext.Lease, attempts []fulltext.Attempt) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM jobs WHERE id = $1 AND epoch = $2 FOR SHARE`, l.JobID, l.Epoch).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fulltext.ErrLeaseLost
		}
		if err != nil || len(attempts) == 0 {
			return err
		}
		return insertAttempts(ctx, tx, l, attempts)
	})
	if err != nil {
		return fmt.Errorf("postgres: add attempts %v: %w", l, err)
	}
	return nil
}

// insertAttempts writes attempts stamped with l's job id and epoch in one
// batch. The caller has checked the epoch in the same transaction.
func insertAttempts(ctx context.Context, tx pgx.Tx, l fulltext.Lease, attempts []fulltext.Attempt) error {
	var b pgx.Batch
	for _, a := range attempts {
		var hops any
		if len(a.Hops) > 0 {
			h, err := json.Marshal(a.Hops)
			if err != nil {
				return err
			}
			hops = string(h)
		}
		b.Queue(`INSERT INTO attempts (job_id, epoch, seq, source, host, url, technique,
			kind, http_status, bytes, duration_ns, code, detail, hops, parent, at, version, license)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			l.JobID, l.Epoch, a.Seq, a.Source, a.Host, a.URL, a.Technique,
			a.Kind, a.HTTPStatus, a.Bytes, int64(a.Duration), a.Code, a.Detail, hops, a.Parent, tsArg(a.At),
			a.Version, a.License)
	}
	return tx.SendBatch(ctx, &b).Close()
}
