package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Clock gives the time of leases, not_before and every timestamp.
	// Defaults to fulltext.SystemClock.
	Clock fulltext.Clock
	// MaxAttempts is the number of claims a job may use before it fails.
	// Defaults to 5.
	MaxAttempts int
	// BusyTimeout is how long a write waits for another process's write
	// lock before it fails. Defaults to 30s: a loaded machine with several processes on one file must wait rather than fail.
	BusyTimeout time.Duration
}

// Store is a fulltext.JobStore on one SQLite file. It is safe for
// concurrent use by multiple goroutines, and several Stores (in one process
// or in several) may share one file.
type Store struct {
	w           *sql.DB    // one connection; every transaction is BEGIN IMMEDIATE
	r           *sql.DB    // read-only connections
	st          stmts      // prepared on w
	g           groupQueue // lease writes waiting for a group transaction
	clock       fulltext.Clock
	maxAttempts int
}

var _ fulltext.JobStore = (*Store)(nil)

// Open opens (creating if needed) the job store at path and migrates its
// schema. It returns an error wrapping fulltext.ErrSchemaTooNew when the
// file was migrated by a newer oafetch. The caller must Close the Store.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path", path)
	}
	busy := cmp.Or(opts.BusyTimeout, 30*time.Second)
	s := &Store{
		clock:       cmp.Or[fulltext.Clock](opts.Clock, fulltext.SystemClock{}),
		maxAttempts: cmp.Or(opts.MaxAttempts, 5),
	}
	if s.maxAttempts < 1 {
		return nil, fmt.Errorf("sqlite: open: max attempts %d < 1", s.maxAttempts)
	}

	var err error
	if s.w, err = sql.Open("sqlite", dsn(path, busy, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		_ = s.st.close()
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	if s.r, err = sql.Open("sqlite", dsn(path, busy, false)); err != nil {
		_ = s.st.close()
		s.w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	readers := max(2, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	return s, nil
}

// Page cache sizes in KiB and the WAL size limit in bytes. With the 64 MiB
// cache on every connection a pull over 100,000 works peaked at 273 MiB RSS,
// with it on the writer only at 143 MiB (BENCHMARKS.md, P2/P4).
const (
	writerCacheKiB = 8 << 10
	readerCacheKiB = 2 << 10
	walLimit       = 64 << 20
)

// dsn builds the modernc.org/sqlite data source name. Writers begin every
// transaction IMMEDIATE; readers are query-only.
func dsn(path string, busy time.Duration, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		// Statement journals of multi-row INSERTs stay in memory, not in
		// temp files written page by page. Not on readers: the sorts of
		// their GROUP BY scans (Stats) would then hold every job in memory.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
		// A bounded page cache, whatever the number of jobs: memory must
		// not grow with the works planned (P4). A PlanSession raises it
		// while it plans and lowers it again.
		q.Add("_pragma", "cache_size(-"+strconv.Itoa(writerCacheKiB)+")")
		// A checkpointed WAL is truncated back to this size, so that one
		// large planning transaction does not leave a large file behind.
		q.Add("_pragma", "journal_size_limit("+strconv.Itoa(walLimit)+")")
	} else {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-"+strconv.Itoa(readerCacheKiB)+")")
	}
	return path + "?" + q.Encode()
}

// Close closes both connection pools. Safe to call once.
func (s *Store) Close() error {
	return errors.Join(s.st.close(), s.r.Close(), s.w.Close())
}

// now returns the store clock's time in unix nanoseconds.
func (s *Store) now() int64 { return s.clock.Now().UnixNano() }

// write runs fn in one BEGIN IMMEDIATE transaction and commits it when fn
// returns nil. A cancelled ctx writes nothing.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	return tx.Commit()
}

// read runs fn in one read transaction (a consistent snapshot).
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	return tx.Commit()
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// nanos converts t to stored unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos converts stored unix nanoseconds back to a UTC time; 0 is the
// zero time.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
