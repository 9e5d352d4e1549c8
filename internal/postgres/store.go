package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Clock, when set, gives the time of leases, not_before and every
	// timestamp instead of the database's now(). For tests only: a fleet
	// must use database time so that clock skew cannot break leases.
	Clock fulltext.Clock
	// MaxAttempts is the number of claims a job may use before it fails.
	// Defaults to 5.
	MaxAttempts int
	// Schema is the PostgreSQL schema holding the tables, created when
	// missing. Defaults to the connection's search_path (normally public).
	Schema string
	// MaxConns caps the connection pool. Defaults to pgxpool's default
	// (the larger of 4 and the number of CPUs) or the DSN's pool_max_conns.
	MaxConns int32
}

// Store is a fulltext.JobStore on one PostgreSQL database. It is safe for
// concurrent use by multiple goroutines and by many processes on many
// machines sharing the database.
type Store struct {
	pool        *pgxpool.Pool
	clock       fulltext.Clock // nil: database time
	maxAttempts int
	schema      string
}

var _ fulltext.JobStore = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at dsn (a postgres:// URL or a key=value
// connection string), creates opts.Schema if set and missing, and migrates
// the schema. It returns an error wrapping fulltext.ErrSchemaTooNew when the
// database was migrated by a newer oafetch. The caller must Close the Store.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	s := &Store{clock: opts.Clock, maxAttempts: cmp.Or(opts.MaxAttempts, 5), schema: opts.Schema}
	if s.maxAttempts < 1 {
		return nil, fmt.Errorf("postgres: open: max attempts %d < 1", s.maxAttempts)
	}
	if s.schema != "" && !schemaName.MatchString(s.schema) {
		return nil, fmt.Errorf("postgres: open: schema %q: want [a-z_][a-z0-9_]*", s.schema)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if s.schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = s.schema
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "oafetch"
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", redact(cfg), err)
	}
	return s, nil
}

// redact names the server and database of cfg without credentials.
func redact(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)
}

// Close closes the connection pool, waiting for connections in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool returns the store's connection pool (for tests and benchmarks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// nowSQL is the time of a statement: the test clock passed as $1, or the
// database's transaction time when $1 is NULL. Statements write ":now" and
// q expands it.
const nowSQL = `coalesce($1::timestamptz, now())`

// q expands :now in query.
func q(query string) string { return strings.ReplaceAll(query, ":now", nowSQL) }

// now returns the $1 argument of every statement: the test clock's time, or
// nil for database time.
func (s *Store) now() any {
	if s.clock == nil {
		return nil
	}
	return s.clock.Now().UTC()
}

// tx runs fn in one READ COMMITTED transaction and commits it when fn
// returns nil. A cancelled ctx writes nothing.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// execFenced runs a fenced UPDATE and returns ErrLeaseLost when it matched
// no row.
func execFenced(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fulltext.ErrLeaseLost
	}
	return nil
}

// fence locks the job row when l is its current lease (same epoch, leased
// state) and returns its state and attempt count, else ErrLeaseLost. Run
// inside a transaction, its answer holds until commit.
func fence(ctx context.Context, tx pgx.Tx, l fulltext.Lease) (fulltext.JobState, int, error) {
	var (
		st       fulltext.JobState
		attempts int
	)
	err := tx.QueryRow(ctx, `SELECT state, attempts FROM jobs WHERE id = $1 AND epoch = $2 FOR UPDATE`,
		l.JobID, l.Epoch).Scan(&st, &attempts)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !st.Leased() {
		return "", 0, fulltext.ErrLeaseLost
	}
	return st, attempts, err
}

// micros converts d to whole microseconds, PostgreSQL's time resolution.
func micros(d time.Duration) int64 { return d.Microseconds() }

// tsArg returns t for a timestamptz parameter, nil (NULL) for the zero time.
func tsArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromTS converts a nullable timestamptz to a UTC time; NULL is the zero
// time.
func fromTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
