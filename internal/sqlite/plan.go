package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// planChunk is the number of rows per multi-row INSERT (7 parameters each,
// well under SQLite's 32,766-variable limit).
const planChunk = 500

// Plan inserts one PLANNED job per new work in one transaction, with
// multi-row INSERT … ON CONFLICT(key) DO NOTHING, so that it is idempotent
// also when several processes plan the same works at once. New jobs are due
// at once (not_before is now). A work without an id is an error and nothing
// is planned.
//
// Jobs are numbered (and so claimed, among jobs due at the same time) in
// the order of works. For a large input, a PlanSession is much faster.
func (s *Store) Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	if len(works) == 0 {
		return fulltext.PlanResult{}, nil
	}
	if err := checkWorks(works); err != nil {
		return fulltext.PlanResult{}, err
	}
	var created int
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = planTx(ctx, tx, works, s.now())
		return err
	})
	if err != nil {
		return fulltext.PlanResult{}, fmt.Errorf("sqlite: plan: %w", err)
	}
	return fulltext.PlanResult{Created: created, Existing: len(works) - created}, nil
}

func checkWorks(works []fulltext.Work) error {
	for i, w := range works {
		if w.ID.IsZero() {
			return fmt.Errorf("sqlite: plan: work %d has no id", i)
		}
	}
	return nil
}

// planTx inserts works in tx and returns how many were new. The rows of
// the next chunk are encoded (JSON, key hash) in another goroutine while
// SQLite inserts the current one.
func planTx(ctx context.Context, tx *sql.Tx, works []fulltext.Work, now int64) (int, error) {
	if len(works) <= planChunk {
		args, err := planArgs(nil, works, now)
		if err != nil {
			return 0, err
		}
		return planExec(ctx, tx, nil, args, len(works))
	}
	type chunk struct {
		args []any
		n    int
		err  error
	}
	var (
		chunks = make(chan chunk, 1)
		free   = make(chan []any, 2)
		done   = make(chan struct{})
		wg     sync.WaitGroup
	)
	free <- make([]any, 0, planChunk*7)
	free <- make([]any, 0, planChunk*7)
	wg.Go(func() {
		defer close(chunks)
		for start := 0; start < len(works); start += planChunk {
			part := works[start:min(start+planChunk, len(works))]
			var buf []any
			select {
			case buf = <-free:
			case <-done:
				return
			}
			args, err := planArgs(buf[:0], part, now)
			select {
			case chunks <- chunk{args, len(part), err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	var (
		full    *sql.Stmt
		created int
	)
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return 0, c.err
		}
		if c.n == planChunk && full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, planInsert(planChunk)); err != nil {
				return 0, err
			}
		}
		n, err := planExec(ctx, tx, full, c.args, c.n)
		if err != nil {
			return 0, err
		}
		created += n
		clear(c.args) // drop the references to this chunk's strings
		free <- c.args
	}
	return created, nil
}

// planArgs appends the INSERT parameters of works to args.
func planArgs(args []any, works []fulltext.Work, now int64) ([]any, error) {
	for _, w := range works {
		work, record, err := encodeWork(w)
		if err != nil {
			return nil, err
		}
		args = append(args, workKey(w.ID), w.ID.String(), work, record, now, now, now)
	}
	return args, nil
}

// planExec inserts the n jobs of args, through full when it is the
// prepared INSERT of n rows, and returns how many were new.
func planExec(ctx context.Context, tx *sql.Tx, full *sql.Stmt, args []any, n int) (int, error) {
	var (
		res sql.Result
		err error
	)
	if full != nil && n == planChunk {
		res, err = full.ExecContext(ctx, args...)
	} else {
		res, err = tx.ExecContext(ctx, planInsert(n), args...)
	}
	if err != nil {
		return 0, err
	}
	created, err := res.RowsAffected()
	return int(created), err
}

// planInsert returns the INSERT of n jobs.
func planInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO jobs (key, work_id, work, record, state, not_before, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, 'PLANNED', ?, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT (key) DO NOTHING`)
	return b.String()
}

// workKey returns the stored idempotency key of the work with id id:
// keyBytes(Work{ID: id}.Key()), without the hex round trip.
func workKey(id fulltext.WorkID) []byte {
	sum := sha256.Sum256([]byte(id.String()))
	return sum[:]
}

// keyBytes returns the stored form of an idempotency key: the bytes its hex
// spells, half the size in the unique index.
func keyBytes(key string) []byte {
	b, err := hex.DecodeString(key)
	if err != nil { // not a Work.Key; keep it verbatim rather than collide
		return []byte(key)
	}
	return b
}

// PlanSessionOptions configure a PlanSession. The zero value is usable.
type PlanSessionOptions struct {
	// TxWorks is the number of works a transaction takes before it commits
	// and the next one begins. Defaults to 250,000: planning 1,000,000 ids
	// in transactions of 20,000 took 49 s (17.7 s of CPU), in transactions
	// of 250,000 12.7 s (11.8 s of CPU), because every commit writes each
	// page of the random-order key index it touched to the WAL again.
	TxWorks int
	// TxBytes bounds the bytes of OpenAlex records a transaction takes.
	// Defaults to 128 MiB.
	TxBytes int
	// CacheKiB is the writer's page cache while the session is open.
	// Defaults to 65,536 (64 MiB): enough for the key index of a million
	// jobs. At Close the cache returns to the store's bounded size and the
	// memory is released.
	CacheKiB int
}

// PlanSession plans many works in few long transactions: its Plan calls
// share a transaction until it holds TxWorks works, and the writer has a
// large page cache while the session is open. Only one goroutine may use a
// session, and the Store must not be written through other calls while it
// is open (they wait for the writer connection the open transaction holds):
// plan a file or a list of ids with it, then Close it before processing
// jobs.
//
// What Plan reported is durable only once its transaction commits (at
// TxWorks, or at Close); a crash or an error loses at most the open
// transaction, and planning again is idempotent.
type PlanSession struct {
	s      *Store
	o      PlanSessionOptions
	tx     *sql.Tx
	works  int // in the open transaction
	bytes  int
	err    error // sticky: the session failed
	closed bool
}

// BeginPlan opens a planning session. The caller must Close it.
func (s *Store) BeginPlan(ctx context.Context, o PlanSessionOptions) (*PlanSession, error) {
	o.TxWorks = cmp.Or(o.TxWorks, 250_000)
	o.TxBytes = cmp.Or(o.TxBytes, 128<<20)
	o.CacheKiB = cmp.Or(o.CacheKiB, 64<<10)
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", o.CacheKiB)); err != nil {
		return nil, fmt.Errorf("sqlite: begin plan: %w", err)
	}
	return &PlanSession{s: s, o: o}, nil
}

// Plan plans works like Store.Plan, in the session's open transaction; it
// commits that transaction when it is full.
func (p *PlanSession) Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	switch {
	case p.closed:
		return fulltext.PlanResult{}, errors.New("sqlite: plan: session closed")
	case p.err != nil:
		return fulltext.PlanResult{}, p.err
	case len(works) == 0:
		return fulltext.PlanResult{}, nil
	}
	if err := checkWorks(works); err != nil {
		return fulltext.PlanResult{}, err
	}
	created, err := p.plan(ctx, works)
	if err != nil {
		p.err = fmt.Errorf("sqlite: plan: %w", errors.Join(err, p.rollback()))
		return fulltext.PlanResult{}, p.err
	}
	return fulltext.PlanResult{Created: created, Existing: len(works) - created}, nil
}

func (p *PlanSession) plan(ctx context.Context, works []fulltext.Work) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if p.tx == nil {
		// Not bound to ctx: database/sql would roll the transaction back
		// when ctx ends between calls, losing what Plan reported; a
		// cancelled ctx still interrupts the statements of a Plan call.
		tx, err := p.s.w.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			return 0, err
		}
		p.tx = tx
	}
	created, err := planTx(ctx, p.tx, works, p.s.now())
	if err != nil {
		return 0, err
	}
	p.works += len(works)
	for _, w := range works {
		p.bytes += len(w.Record)
	}
	if p.works >= p.o.TxWorks || p.bytes >= p.o.TxBytes {
		return created, p.commit()
	}
	return created, nil
}

func (p *PlanSession) commit() error {
	if p.tx == nil {
		return nil
	}
	tx := p.tx
	p.tx, p.works, p.bytes = nil, 0, 0
	return tx.Commit()
}

func (p *PlanSession) rollback() error {
	if p.tx == nil {
		return nil
	}
	tx := p.tx
	p.tx, p.works, p.bytes = nil, 0, 0
	return rollback(tx)
}

// Close commits the open transaction (unless a Plan call failed, which
// rolled it back), returns the writer's page cache to its bounded size and
// releases the memory SQLite can free. ctx bounds only the cache restore;
// the commit runs even when ctx is cancelled, so that what Plan reported
// as planned before an interrupt is kept. Close is idempotent.
func (p *PlanSession) Close(ctx context.Context) error {
	if p.closed {
		return nil
	}
	p.closed = true
	err := p.commit()
	if err != nil {
		err = fmt.Errorf("sqlite: plan: commit: %w", err)
	}
	return errors.Join(err, p.s.shrink(context.WithoutCancel(ctx)))
}

// shrink returns the writer's page cache to its bounded size and asks
// SQLite to free what it can.
func (s *Store) shrink(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", writerCacheKiB)); err != nil {
		return fmt.Errorf("sqlite: shrink: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
		return fmt.Errorf("sqlite: shrink: %w", err)
	}
	return nil
}
