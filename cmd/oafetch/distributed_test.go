package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/postgres"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/s3store/s3storetest"
)

// distributedEnv returns the test PostgreSQL DSN and S3 endpoint started
// by scripts/test-services.sh: skipped locally without them, a failure in
// CI.
func distributedEnv(t *testing.T) (dsn, endpoint string) {
	t.Helper()
	dsn, endpoint = os.Getenv("OAFETCH_TEST_POSTGRES_DSN"), os.Getenv("OAFETCH_TEST_S3_ENDPOINT")
	if dsn == "" || endpoint == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("OAFETCH_TEST_POSTGRES_DSN / OAFETCH_TEST_S3_ENDPOINT not set: CI must start the servers (scripts/test-services.sh)")
		}
		t.Skip("OAFETCH_TEST_POSTGRES_DSN / OAFETCH_TEST_S3_ENDPOINT not set; eval \"$(scripts/test-services.sh start)\"")
	}
	return dsn, endpoint
}

// fleetStores makes a PostgreSQL schema and an S3 bucket of the test's own
// (dropped when it ends) and returns the DSN that selects the schema, the
// bucket and the S3 options.
func fleetStores(t *testing.T, dsn string) (fleetDSN, bucket string, s3opts s3store.Options) {
	t.Helper()
	ctx := t.Context()
	name := s3storetest.Name("fleet_")

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
		_ = admin.Close(context.Background())
	})
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	qv := u.Query()
	qv.Set("search_path", name)
	u.RawQuery = qv.Encode()

	s3opts = s3storetest.Options(t)
	bucket = s3storetest.Bucket(t, s3opts, "fleet-")
	return u.String(), bucket, s3opts
}

// TestFleetOnPostgresAndS3 runs three `oafetch work` runs at once
// (in-process, each with its own store handles) on one PostgreSQL database
// and one S3 bucket against the simulated web: every job ends terminal with
// the world's expected code, none is finalized twice, and every full text
// is in the bucket with its recorded sha256 and size.
func TestFleetOnPostgresAndS3(t *testing.T) {
	t.Parallel()
	dsn, endpoint := distributedEnv(t)
	ctx := t.Context()
	fleetDSN, bucket, s3opts := fleetStores(t, dsn)
	out := "s3://" + bucket + "/run"

	sim := startSim(t, 60)
	var input strings.Builder
	for _, w := range sim.srv.World().Works {
		input.WriteString(w.Input + "\n")
	}
	ids := filepath.Join(sim.dir, "ids.txt")
	if err := os.WriteFile(ids, []byte(input.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + t.TempDir(), "OAFETCH_S3_ENDPOINT=" + endpoint, "OAFETCH_S3_PATH_STYLE=true",
		"AWS_ACCESS_KEY_ID=" + s3opts.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3opts.SecretKey}
	runCLI := func(args ...string) (int, string) {
		var o bytes.Buffer
		code := run(args, strings.NewReader(""), &o, &o, env)
		return code, o.String()
	}
	base := []string{"--db", fleetDSN, "--out", out, "-q"}
	if code, o := runCLI(append(append([]string{"plan", "--input", ids}, base...), sim.flags...)...); code != exitOK {
		t.Fatalf("plan exit %d:\n%s", code, o)
	}

	const workers = 3
	var wg sync.WaitGroup
	codes := make([]int, workers)
	outs := make([]string, workers)
	for i := range workers {
		wg.Go(func() {
			codes[i], outs[i] = runCLI(append(append([]string{"work", "--workers", "4"}, base...), sim.flags...)...)
		})
	}
	wg.Wait()
	for i := range workers {
		if codes[i] != exitOK {
			t.Errorf("worker %d exit %d:\n%s", i, codes[i], outs[i])
		}
	}

	store, err := postgres.Open(ctx, fleetDSN, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	arts, err := s3store.Open(ctx, bucket, "run", s3opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFleetInvariants(t, ctx, store, arts, sim.srv.World().Works)
	st, err := store.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.LiveLeases != 0 {
		t.Errorf("%d live leases after the fleet stopped", st.LiveLeases)
	}
}
