package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxGroup bounds the writes one group transaction carries.
const maxGroup = 64

// Group commit. The store has one writer connection, so concurrent lease
// writes (Step, Finish, AddAttempts, Renew, Release) from many workers
// would each pay a BEGIN IMMEDIATE and a COMMIT, one after the other.
// Instead a write is queued; the caller that finds no group running becomes
// the leader, takes the queued writes (its own first), runs them in one
// transaction — each inside its own SAVEPOINT, so that a write that fails
// (a stale epoch: ErrLeaseLost, an illegal move, a constraint) is rolled
// back alone — takes the writes queued meanwhile into the same transaction
// until none is left or it carries maxGroup, commits, and hands every
// caller its own result. Then it passes the leadership to the oldest write
// still queued. Claim joins the groups too. A lone write
// starts its transaction at once: there is no timer, no added latency when
// idle. A caller returns only after the transaction carrying its write has
// committed (or failed); a group whose commit fails fails all its writes.

// groupWrite is one queued write.
type groupWrite struct {
	ctx context.Context // the caller's: checked before fn runs
	fn  func(ctx context.Context, tx *sql.Tx) error
	res chan groupResult // buffered 1
}

// groupResult is what a queued write's caller is handed: its write's
// result, or the leadership.
type groupResult struct {
	err  error
	lead bool
}

// groupQueue is the queue of lease writes waiting for a transaction.
type groupQueue struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running bool // a leader is running (or about to run) a group

	// Counters for tests: groups committed or failed, writes carried.
	groups, writes int64
}

// groupStats returns the number of group transactions run and of writes
// they carried.
func (s *Store) groupStats() (groups, writes int64) {
	g := &s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.groups, g.writes
}

// writeLease runs fn in a group transaction shared with concurrent lease
// writes and returns fn's error, or the group's when its transaction could
// not commit. fn must validate before it writes and must use the ctx it is
// given (not the caller's: one caller's cancellation must not abort the
// others' transaction). A ctx cancelled before fn runs writes nothing.
func (s *Store) writeLease(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &groupWrite{ctx: ctx, fn: fn, res: make(chan groupResult, 1)}
	g := &s.g
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if !lead {
		r := <-w.res
		if !r.lead {
			return r.err
		}
	}
	return s.leadGroup(w)
}

// leadGroup runs one group transaction whose first write is own, delivers
// the other writes' results, passes the leadership on, and returns own's
// result. Writes queued while the transaction runs join it, up to
// maxGroup, before it commits.
func (s *Store) leadGroup(own *groupWrite) error {
	g := &s.g
	ctx := context.WithoutCancel(own.ctx)
	tx, broken := s.w.BeginTx(ctx, nil)
	began := broken == nil

	// Take queued writes and run them until none is left or the group is
	// full. batch[0] is own: a leader is the oldest queued write (the
	// queue is empty whenever no group runs, and the leadership passes to
	// the oldest).
	var (
		batch []*groupWrite
		errs  []error
	)
	for len(batch) < maxGroup {
		g.mu.Lock()
		k := min(len(g.queue), maxGroup-len(batch))
		batch = append(batch, g.queue[:k]...)
		g.queue = append(g.queue[:0], g.queue[k:]...)
		g.mu.Unlock()
		if k == 0 {
			break
		}
		for _, w := range batch[len(errs):] {
			var err error
			switch {
			case broken != nil:
				err = broken
			case w.ctx.Err() != nil:
				err = w.ctx.Err()
			case len(batch) == 1:
				// Alone so far: no savepoint. When it fails the
				// transaction is rolled back and takes no more writes.
				if err = w.fn(ctx, tx); err != nil {
					broken = err
				}
			default:
				err, broken = s.runSavepoint(ctx, tx, w)
			}
			errs = append(errs, err)
		}
		if broken != nil {
			break
		}
	}
	s.endGroup(tx, began, broken, errs)

	g.mu.Lock()
	g.groups++
	g.writes += int64(len(batch))
	var next *groupWrite
	if len(g.queue) > 0 {
		next = g.queue[0]
	} else {
		g.running = false
	}
	g.mu.Unlock()

	for i, w := range batch[1:] {
		w.res <- groupResult{err: errs[i+1]}
	}
	if next != nil {
		next.res <- groupResult{lead: true}
	}
	return errs[0]
}

// endGroup commits tx, or rolls it back when broken is set, and gives
// every write that succeeded in it the error of an uncommitted group.
func (s *Store) endGroup(tx *sql.Tx, began bool, broken error, errs []error) {
	var err error
	switch {
	case !began:
		return // every write already has the BEGIN's error
	case broken != nil:
		err = broken
		if rerr := rollback(tx); rerr != nil {
			err = errors.Join(err, rerr)
			errs[0] = errors.Join(errs[0], rerr)
		}
	default:
		if cerr := tx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}
	if err == nil {
		return
	}
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

// runSavepoint runs one write of a group inside a savepoint and rolls it
// back alone when it fails. broken is set when the savepoint could not be
// taken or rolled back: the transaction may have been rolled back by
// SQLite and must not go on.
func (s *Store) runSavepoint(ctx context.Context, tx *sql.Tx, w *groupWrite) (err, broken error) {
	if _, err := tx.StmtContext(ctx, s.st.savepoint).ExecContext(ctx); err != nil {
		return fmt.Errorf("savepoint: %w", err), fmt.Errorf("savepoint: %w", err)
	}
	if err = w.fn(ctx, tx); err != nil {
		if _, rerr := tx.StmtContext(ctx, s.st.rollbackTo).ExecContext(ctx); rerr != nil {
			return err, fmt.Errorf("rollback to savepoint: %w", errors.Join(err, rerr))
		}
	}
	if _, rerr := tx.StmtContext(ctx, s.st.releaseSP).ExecContext(ctx); rerr != nil {
		if err == nil {
			err = fmt.Errorf("release savepoint: %w", rerr)
		}
		return err, fmt.Errorf("release savepoint: %w", rerr)
	}
	return err, nil
}
