package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
	"github.com/oafetch/oafetch/internal/postgres"
)

// testDSN returns the DSN of the test server (scripts/test-services.sh).
// Without one the test is skipped locally and fails in CI.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("OAFETCH_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("OAFETCH_TEST_POSTGRES_DSN is not set: CI must start PostgreSQL (scripts/test-services.sh)")
		}
		t.Skip("OAFETCH_TEST_POSTGRES_DSN is not set; start a server with: eval \"$(scripts/test-services.sh start)\"")
	}
	return dsn
}

// newSchema returns a fresh schema name and drops the schema when t ends.
func newSchema(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open opens a store in schema with opts, closed when t ends.
func open(t testing.TB, schema string, opts postgres.Options) *postgres.Store {
	t.Helper()
	opts.Schema = schema
	opts.MaxConns = 4
	s, err := postgres.Open(context.Background(), testDSN(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestJobStoreConformance(t *testing.T) {
	t.Parallel()
	testDSN(t)
	fulltexttest.RunJobStoreTests(t, func(t *testing.T, clock *fulltext.StubClock) fulltext.JobStore {
		return open(t, newSchema(t), postgres.Options{Clock: clock, MaxAttempts: fulltexttest.JobStoreMaxAttempts})
	})
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := postgres.Open(t.Context(), testDSN(t), postgres.Options{Schema: schema, MaxConns: 2})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	s := open(t, schema, postgres.Options{})
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != postgres.LatestSchema() {
		t.Errorf("schema_migrations has %d rows, want %d", n, postgres.LatestSchema())
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	s := open(t, schema, postgres.Options{})
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'future')`,
		postgres.LatestSchema()+1); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(t.Context(), testDSN(t), postgres.Options{Schema: schema})
	if !errors.Is(err, fulltext.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestDatabaseTime checks that without a test clock leases come from the
// database clock: a claim's lease ends ttl after the server's now().
func TestDatabaseTime(t *testing.T) {
	t.Parallel()
	s := open(t, newSchema(t), postgres.Options{})
	ctx := t.Context()
	if _, err := s.Plan(ctx, []fulltext.Work{{ID: fulltext.WorkID{Kind: fulltext.KindPMID, Value: "1"}}}); err != nil {
		t.Fatal(err)
	}
	var before, after time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT now()`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, "w", 1, time.Hour)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v %v", jobs, err)
	}
	if err := s.Pool().QueryRow(ctx, `SELECT now()`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	until := jobs[0].LeaseUntil
	if until.Before(before.Add(time.Hour)) || until.After(after.Add(time.Hour)) {
		t.Errorf("lease until %v, want between %v and %v", until, before.Add(time.Hour), after.Add(time.Hour))
	}
	live, err := s.LeaseLive(ctx, jobs[0].Lease())
	if err != nil || !live {
		t.Errorf("LeaseLive = %v, %v", live, err)
	}
}

// TestConnectionLoss kills every server connection of the store mid-lease:
// the pool reconnects and the lease is still renewable and finishable.
func TestConnectionLoss(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	// A name of its own, so that only this store's connections are killed.
	s, err := postgres.Open(t.Context(), testDSN(t)+"&application_name="+schema, postgres.Options{Schema: schema, MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	// Warm several pooled connections.
	for range 3 {
		if _, err := s.Stats(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Plan(ctx, []fulltext.Work{{ID: fulltext.WorkID{Kind: fulltext.KindPMID, Value: "7"}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, "w", 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v %v", jobs, err)
	}
	admin, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, schema).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection was terminated")
	}
	// A call on a dead connection fails once per pooled connection at most;
	// the pool then dials again.
	var renewErr error
	for range 5 {
		if _, renewErr = s.Renew(ctx, jobs[0].Lease(), time.Minute); renewErr == nil {
			break
		}
		if errors.Is(renewErr, fulltext.ErrLeaseLost) {
			t.Fatalf("Renew after reconnect: %v", renewErr)
		}
	}
	if renewErr != nil {
		t.Fatalf("Renew never succeeded after connection loss: %v", renewErr)
	}
	if err := s.Finish(ctx, jobs[0].Lease(), fulltext.Finish{State: fulltext.StateFailed,
		Outcome: fulltext.OutcomeError, Code: fulltext.CodeInternal}); err != nil {
		t.Fatalf("Finish after reconnect: %v", err)
	}
}

func TestWorkerRegistryConformance(t *testing.T) {
	t.Parallel()
	testDSN(t)
	fulltexttest.RunWorkerRegistryTests(t, func(t *testing.T, clock *fulltext.StubClock) fulltext.WorkerRegistry {
		return open(t, newSchema(t), postgres.Options{Clock: clock})
	})
}
