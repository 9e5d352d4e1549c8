package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
		return fmt.Errorf("sqlite: step %v: %w", l, err)
	}
	err := s.writeLease(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, _, err := s.fence(ctx, tx, l)
		if err != nil {
			return err
		}
		now := s.now()
		if st.To != "" {
			if !st.To.Leased() || !fulltext.CanTransition(cur, st.To) {
				return fmt.Errorf("%s → %s: %w", cur, st.To, fulltext.ErrBadTransition)
			}
			if _, err := tx.StmtContext(ctx, s.st.move).ExecContext(ctx, st.To, now, l.JobID, l.Epoch); err != nil {
				return err
			}
		}
		_, err = tx.StmtContext(ctx, s.st.ledger).ExecContext(ctx, l.JobID, l.Epoch, st.Op, st.Status, st.Detail, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: step %v: %w", l, err)
	}
	return nil
}

// Finish ends the attempt with f in one transaction. f.State must be one of
// FINALIZED, DEDUPED, FAILED, SKIPPED_DUPLICATE or PLANNED and allowed from
// the job's state, else the error wraps ErrBadTransition. FINALIZED and
// DEDUPED write the job's one live completed FINALIZE ledger row. PLANNED
// keeps the attempt count and makes the job due at f.NotBefore (now when
// zero); a job that has used all its attempts becomes FAILED instead,
// keeping f's outcome and code so that a retry by code finds it.
// f.Attempts are recorded in the same transaction. ErrLeaseLost when l is
// not the job's current lease; a failed Finish writes nothing.
func (s *Store) Finish(ctx context.Context, l fulltext.Lease, f fulltext.Finish) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("sqlite: finish %v: %w", l, err)
	}
	result, err := encodeResult(f.Result)
	if err != nil {
		return fmt.Errorf("sqlite: finish %v: %w", l, err)
	}
	from := [4]any{"", "", "", ""} // the leased states f.State may be reached from
	k := 0
	for _, st := range fulltext.AllStates {
		if st.Leased() && fulltext.CanTransition(st, f.State) && k < len(from) {
			from[k] = string(st)
			k++
		}
	}
	err = s.writeLease(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.now()
		var notBefore sql.NullInt64 // NULL keeps the column
		if f.State == fulltext.StatePlanned {
			notBefore = sql.NullInt64{Int64: max(nanos(f.NotBefore), now), Valid: true}
		}
		var (
			state    fulltext.JobState
			attempts int
		)
		err := tx.StmtContext(ctx, s.st.finish).QueryRowContext(ctx,
			f.State, s.maxAttempts, notBefore, f.Outcome, f.Code, f.Detail, result, now, l.JobID, l.Epoch,
			from[0], from[1], from[2], from[3]).Scan(&state, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			// Nothing changed: say why.
			cur, _, err := s.fence(ctx, tx, l)
			if err != nil {
				return err
			}
			return fmt.Errorf("%s → %s: %w", cur, f.State, fulltext.ErrBadTransition)
		}
		if err != nil {
			return err
		}
		if f.State == fulltext.StatePlanned && state == fulltext.StateFailed {
			detail := strings.TrimSpace(fmt.Sprintf("%s (attempts exhausted: %d of %d used)", f.Detail, attempts, s.maxAttempts))
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET detail = ? WHERE id = ? AND epoch = ?`,
				detail, l.JobID, l.Epoch); err != nil {
				return err
			}
		}
		if state == fulltext.StateFinalized || state == fulltext.StateDeduped {
			if _, err := tx.StmtContext(ctx, s.st.ledger).ExecContext(ctx,
				l.JobID, l.Epoch, fulltext.OpFinalize, fulltext.OpCompleted, string(state), now); err != nil {
				return fmt.Errorf("finalize ledger row: %w", err)
			}
		}
		return s.insertAttempts(ctx, tx, l, f.Attempts)
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish %v: %w", l, err)
	}
	return nil
}

// AddAttempts records the attempts of the claim l, stamping each with the
// lease's job id and epoch. It needs only l's epoch to be current, so it may
// follow Finish; after a later claim it returns ErrLeaseLost and writes
// nothing.
func (s *Store) AddAttempts(ctx context.Context, l fulltext.Lease, attempts []fulltext.Attempt) error {
	err := s.writeLease(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		err := tx.StmtContext(ctx, s.st.epoch).QueryRowContext(ctx, l.JobID, l.Epoch).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fulltext.ErrLeaseLost
		}
		if err != nil || len(attempts) == 0 {
			return err
		}
		return s.insertAttempts(ctx, tx, l, attempts)
	})
	if err != nil {
		return fmt.Errorf("sqlite: add attempts %v: %w", l, err)
	}
	return nil
}

// insertAttempts writes attempts stamped with l's job id and epoch. The
// caller has checked the epoch in the same transaction.
func (s *Store) insertAttempts(ctx context.Context, tx *sql.Tx, l fulltext.Lease, attempts []fulltext.Attempt) error {
	if len(attempts) == 0 {
		return nil
	}
	stmt := tx.StmtContext(ctx, s.st.attempt)
	for _, a := range attempts {
		var hops sql.NullString
		if len(a.Hops) > 0 {
			b, err := json.Marshal(a.Hops)
			if err != nil {
				return fmt.Errorf("attempt %d hops: %w", a.Seq, err)
			}
			hops = sql.NullString{String: string(b), Valid: true}
		}
		if _, err := stmt.ExecContext(ctx, l.JobID, l.Epoch, a.Seq, a.Source, a.Host, a.URL, a.Technique,
			a.Kind, a.HTTPStatus, a.Bytes, int64(a.Duration), a.Code, a.Detail, hops, a.Parent, nanos(a.At),
			a.Version, a.License); err != nil {
			return fmt.Errorf("attempt %d: %w", a.Seq, err)
		}
	}
	return nil
}
