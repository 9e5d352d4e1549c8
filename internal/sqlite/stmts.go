package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// SQL of the hot write paths, prepared once per Store. Parsing is a large
// part of a short statement's cost in SQLite.
const (
	fenceSQL = `SELECT state, attempts FROM jobs WHERE id = ? AND epoch = ?`

	// finishSQL ends the lease (?9, ?10) when the job is in one of the
	// states ?11…?14 (those the new state ?1 may be reached from, padded
	// with ''), fencing and moving in one statement. A retry (PLANNED) of a
	// job that has used its ?2 attempts becomes FAILED. It returns the new
	// state and the attempt count; no row when the lease is gone or the
	// move is not allowed (the caller then asks fence which).
	finishSQL = `UPDATE jobs SET
		state = CASE WHEN ?1 = 'PLANNED' AND attempts >= ?2 THEN 'FAILED' ELSE ?1 END,
		lease_until = 0, not_before = coalesce(?3, not_before),
		outcome = ?4, code = ?5, detail = ?6, result = ?7, updated_at = ?8
		WHERE id = ?9 AND epoch = ?10 AND state IN (?11, ?12, ?13, ?14)
		RETURNING state, attempts`

	ledgerSQL = `INSERT INTO ledger (job_id, epoch, op, status, detail, at) VALUES (?, ?, ?, ?, ?, ?)`

	moveSQL = `UPDATE jobs SET state = ?, updated_at = ? WHERE id = ? AND epoch = ?`

	renewSQL = `UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND epoch = ? AND lease_until > 0`

	releaseSQL = `UPDATE jobs SET state = 'PLANNED', lease_until = 0, attempts = max(attempts - 1, 0),
		updated_at = ? WHERE id = ? AND epoch = ? AND lease_until > 0`

	epochSQL = `SELECT 1 FROM jobs WHERE id = ? AND epoch = ?`

	attemptSQL = `INSERT INTO attempts (job_id, epoch, seq, source, host, url, technique,
		kind, http_status, bytes, duration_ns, code, detail, hops, parent, at, version, license)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// One write of a group transaction (group.go).
	savepointSQL  = `SAVEPOINT lease_write`
	rollbackToSQL = `ROLLBACK TO lease_write`
	releaseSPSQL  = `RELEASE lease_write`
)

// maxClaimStmts bounds the cache of claim statements, one per batch size.
const maxClaimStmts = 16

// stmts holds the prepared statements of the writer pool.
type stmts struct {
	fence, finish, ledger, move, renew, release, epoch, attempt *sql.Stmt
	savepoint, rollbackTo, releaseSP                            *sql.Stmt

	mu     sync.Mutex
	claims map[int]*sql.Stmt // by batch size n
}

func (s *Store) prepare(ctx context.Context) error {
	st := &s.st
	st.claims = map[int]*sql.Stmt{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.fence, fenceSQL}, {&st.finish, finishSQL}, {&st.ledger, ledgerSQL}, {&st.move, moveSQL},
		{&st.renew, renewSQL}, {&st.release, releaseSQL}, {&st.epoch, epochSQL}, {&st.attempt, attemptSQL},
		{&st.savepoint, savepointSQL}, {&st.rollbackTo, rollbackToSQL}, {&st.releaseSP, releaseSPSQL},
	} {
		stmt, err := s.w.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.dst = stmt
	}
	return nil
}

// claimStmt returns the prepared claim of n jobs, or nil when the cache is
// full (the caller then runs the SQL unprepared). It must not be called
// inside a write transaction: preparing needs the writer's one connection.
func (s *Store) claimStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	st := &s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if stmt, ok := st.claims[n]; ok {
		return stmt, nil
	}
	if len(st.claims) >= maxClaimStmts {
		return nil, nil
	}
	stmt, err := s.w.PrepareContext(ctx, fmt.Sprintf(claimSQL, n))
	if err != nil {
		return nil, err
	}
	st.claims[n] = stmt
	return stmt, nil
}

// close closes every prepared statement.
func (st *stmts) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{st.fence, st.finish, st.ledger, st.move, st.renew, st.release, st.epoch, st.attempt,
		st.savepoint, st.rollbackTo, st.releaseSP} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, stmt := range st.claims {
		errs = append(errs, stmt.Close())
	}
	return errors.Join(errs...)
}
