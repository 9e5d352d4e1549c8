// Command riverbench measures River's no-op job throughput on a PostgreSQL
// database: the reference rate for oafetch's claim+finish benchmark
// (BENCHMARKS.md). `river bench` (module github.com/riverqueue/river/cmd/river)
// is not served by the module proxy here, so this follows its
// fixed-number-of-jobs mode with the River library: insert N no-op jobs,
// start a client, and time until all are completed.
//
//	go run . -dsn "$OAFETCH_TEST_POSTGRES_DSN" -n 20000
//
// It works in a fresh schema of its own and drops it at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

func main() {
	dsn := flag.String("dsn", os.Getenv("OAFETCH_TEST_POSTGRES_DSN"), "PostgreSQL DSN")
	n := flag.Int("n", 20000, "jobs")
	workers := flag.Int("workers", 100, "River MaxWorkers of the queue")
	cooldown := flag.Duration("fetch-cooldown", 0, "River FetchCooldown (0: River's default, 100ms)")
	flag.Parse()
	if err := run(*dsn, *n, *workers, *cooldown); err != nil {
		log.Fatal(err)
	}
}

func run(dsn string, n, workers int, cooldown time.Duration) error {
	ctx := context.Background()
	schema := fmt.Sprintf("riverbench_%d", os.Getpid())
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) //nolint:errcheck

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	driver := riverpgxv5.New(pool)
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}

	ws := river.NewWorkers()
	river.AddWorker(ws, noopWorker{})
	client, err := river.NewClient(driver, &river.Config{
		FetchCooldown: cooldown,
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:       ws,
	})
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, 0, 1000)
	for i := 0; i < n; i += 1000 {
		params = params[:0]
		for range min(1000, n-i) {
			params = append(params, river.InsertManyParams{Args: noopArgs{}})
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return err
		}
	}

	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		var done int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&done); err != nil {
			return err
		}
		if done >= n {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("only %d of %d jobs completed in 5 minutes", done, n)
		}
	}
	elapsed := time.Since(start)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		return err
	}
	fmt.Printf("river %s: %d no-op jobs in %s = %.0f jobs/s (MaxWorkers %d, FetchCooldown %v)\n",
		"v0.51.2", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), workers, cooldown)
	return nil
}
