package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/postgres"
)

// BenchmarkClaimFinish measures the job lifecycle a worker drives for a job
// that fails fast: Claim (FOR UPDATE SKIP LOCKED), then a fenced Finish
// with its ledger write, from several goroutines, on database time. One op
// is one job; jobs/s is the figure compared with River's no-op job rate in
// BENCHMARKS.md. Run against the test server:
//
//	go test -run '^$' -bench ClaimFinish -benchtime 20000x ./internal/postgres
func BenchmarkClaimFinish(b *testing.B) {
	for _, bc := range []struct {
		goroutines, batch int
	}{{1, 1}, {4, 1}, {4, 16}, {4, 64}} {
		b.Run(fmt.Sprintf("goroutines=%d/batch=%d", bc.goroutines, bc.batch), func(b *testing.B) {
			s := open(b, newSchema(b), postgres.Options{MaxConns: int32(bc.goroutines + 1)})
			ctx := b.Context()
			works := make([]fulltext.Work, b.N)
			for i := range works {
				works[i] = fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: fmt.Sprintf("10.5555/bench.%d", i)}}
			}
			if _, err := s.Plan(ctx, works); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				done int
			)
			for g := range bc.goroutines {
				wg.Go(func() {
					owner := fmt.Sprintf("bench/%d", g)
					for {
						jobs, err := s.Claim(ctx, owner, bc.batch, time.Minute)
						if err != nil {
							b.Error(err)
							return
						}
						if len(jobs) == 0 {
							return
						}
						for _, j := range jobs {
							if err := s.Finish(ctx, j.Lease(), fulltext.Finish{State: fulltext.StateFailed,
								Outcome: fulltext.CodeNotFound.Outcome(), Code: fulltext.CodeNotFound}); err != nil {
								b.Error(err)
								return
							}
						}
						mu.Lock()
						done += len(jobs)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if done != b.N {
				b.Fatalf("finished %d jobs, want %d", done, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
