package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/postgres"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/sqlite"
	"github.com/oafetch/oafetch/internal/worker"
)

// app holds what every subcommand shares: the process's streams and
// environment, the stop signal, and what must be closed at exit.
type app struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	environ []string
	// stop is cancelled by the first SIGINT/SIGTERM: stop claiming, save state.
	stop    context.Context
	ran     bool
	closers []func() error
	opts    appOptions
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
	a.closers = nil
}

func (a *app) getenv(key string) string {
	for _, kv := range a.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// storeFlags are the flags of every command that reads the job store.
type storeFlags struct {
	db, out, config string
	logFormat       string
	quiet, verbose  bool
}

func (a *app) addStoreFlags(cmd *cobra.Command, sf *storeFlags) {
	f := cmd.Flags()
	f.StringVar(&sf.db, "db", "", "job store: a SQLite file path or postgres://… (default: <out>/.oafetch/jobs.sqlite; env OAFETCH_DB)")
	f.StringVar(&sf.out, "out", "oafetch-out", "artifact store: a directory or s3://bucket/prefix")
	f.StringVar(&sf.config, "config", "", "TOML config file (env OAFETCH_CONFIG)")
	f.StringVar(&sf.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVarP(&sf.quiet, "quiet", "q", false, "only errors")
	f.BoolVarP(&sf.verbose, "verbose", "v", false, "debug logging")
}

// logger builds the process logger from the flags.
func (a *app) logger(sf *storeFlags) (*slog.Logger, error) {
	level := slog.LevelInfo
	switch {
	case sf.quiet:
		level = slog.LevelError
	case sf.verbose:
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch sf.logFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", sf.logFormat)
}

// loadConfig builds the configuration: defaults < file < environment; the
// caller applies flags last.
func (a *app) loadConfig(sf *storeFlags) (Config, error) {
	cfg := DefaultConfig()
	path := sf.config
	if path == "" {
		path = a.getenv("OAFETCH_CONFIG")
	}
	if path != "" {
		if err := LoadConfigFile(&cfg, path); err != nil {
			return cfg, err
		}
	}
	if err := ApplyEnv(&cfg, a.environ); err != nil {
		return cfg, err
	}
	cfg.dialControl = a.opts.dialControl
	return cfg, nil
}

// dbPath resolves --db (flag > OAFETCH_DB > default under --out).
func (a *app) dbPath(sf *storeFlags) string {
	if sf.db != "" {
		return sf.db
	}
	if v := a.getenv("OAFETCH_DB"); v != "" {
		return v
	}
	return filepath.Join(sf.out, ".oafetch", "jobs.sqlite")
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openJobStore opens the job store named by the flags: PostgreSQL for a
// postgres:// DSN, else an SQLite file.
func (a *app) openJobStore(ctx context.Context, sf *storeFlags, cfg Config) (fulltext.JobStore, error) {
	if sf.db == "" && a.getenv("OAFETCH_DB") == "" && strings.HasPrefix(sf.out, "s3://") {
		return nil, usagef("--out %s: give --db (postgres://… for a fleet, or a local SQLite file)", sf.out)
	}
	dsn := a.dbPath(sf)
	if isPostgres(dsn) {
		st, err := postgres.Open(ctx, dsn, postgres.Options{MaxAttempts: cfg.Jobs.MaxAttempts})
		if err != nil {
			return nil, asStoreErr(fmt.Errorf("job store %s: %w", redactDSN(dsn), err))
		}
		a.closers = append(a.closers, st.Close)
		return st, nil
	}
	if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
		return nil, asStoreErr(fmt.Errorf("job store %s: %w", dsn, err))
	}
	st, err := sqlite.Open(ctx, dsn, sqlite.Options{MaxAttempts: cfg.Jobs.MaxAttempts})
	if err != nil {
		return nil, asStoreErr(fmt.Errorf("job store %s: %w", dsn, err))
	}
	a.closers = append(a.closers, st.Close)
	return st, nil
}

// openArtifactStore opens the artifact store named by --out: a directory,
// or s3://bucket/prefix with the [s3] table and the usual AWS environment
// (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION or
// AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN; without keys, ~/.aws/credentials or the instance
// role). The [s3] table wins over the AWS variables.
func (a *app) openArtifactStore(ctx context.Context, sf *storeFlags, cfg Config) (fulltext.ArtifactStore, error) {
	if strings.HasPrefix(sf.out, "s3://") {
		bucket, prefix, err := s3store.ParseURL(sf.out)
		if err != nil {
			return nil, usagef("--out %s: %v", sf.out, err)
		}
		st, err := s3store.Open(ctx, bucket, prefix, a.s3Options(cfg.S3))
		if err != nil {
			return nil, asStoreErr(fmt.Errorf("artifact store %s: %w", sf.out, err))
		}
		return st, nil
	}
	st, err := filestore.Open(sf.out, filestore.Options{})
	if err != nil {
		return nil, asStoreErr(fmt.Errorf("artifact store %s: %w", sf.out, err))
	}
	return st, nil
}

// s3Options builds the S3 client options from the [s3] table and the AWS
// environment variables.
func (a *app) s3Options(c S3Config) s3store.Options {
	return s3store.Options{
		Endpoint:     cmp.Or(c.Endpoint, a.getenv("AWS_ENDPOINT_URL_S3"), a.getenv("AWS_ENDPOINT_URL")),
		Region:       cmp.Or(c.Region, a.getenv("AWS_REGION"), a.getenv("AWS_DEFAULT_REGION")),
		PathStyle:    c.PathStyle,
		AccessKey:    a.getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    a.getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: a.getenv("AWS_SESSION_TOKEN"),
		PartSize:     uint64(max(c.PartSizeMiB, 0)) << 20,
	}
}

func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if scheme := strings.Index(dsn, "://"); scheme > 0 && scheme < at {
			return dsn[:scheme+3] + "…" + dsn[at:]
		}
	}
	return dsn
}

// errorsIsNotFound reports a store's ErrNotFound.
func errorsIsNotFound(err error) bool { return errors.Is(err, fulltext.ErrNotFound) }

// reconcile runs the crash reconciler before a run.
func reconcile(ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore, log *slog.Logger) ([]fulltext.Recovery, error) {
	recs, err := worker.Reconcile(ctx, store, arts, log)
	if err != nil {
		return recs, asStoreErr(err)
	}
	return recs, nil
}
