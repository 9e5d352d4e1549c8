package sqlite

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// BenchmarkReplan plans the same 2,000 known works again.
func BenchmarkReplan(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "jobs.db"), nil)
	ws := benchWorks(0, 2000)
	if _, err := s.Plan(b.Context(), ws); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := s.Plan(b.Context(), ws)
		if err != nil || res.Created != 0 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkClaimStepFinish is one job's bookkeeping in a successful pull:
// claim, HEAD and STREAM ledger rows with their transitions, finish.
func BenchmarkClaimStepFinish(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "jobs.db"), nil)
	const batch = 2000
	planned := 0
	for b.Loop() {
		if planned == 0 {
			b.StopTimer()
			if _, err := s.Plan(b.Context(), benchWorks(b.N+int(time.Now().UnixNano()%1e9), batch)); err != nil {
				b.Fatal(err)
			}
			planned = batch
			b.StartTimer()
		}
		jobs, err := s.Claim(b.Context(), "bench", 1, time.Minute)
		if err != nil || len(jobs) != 1 {
			b.Fatal(len(jobs), err)
		}
		planned--
		l := jobs[0].Lease()
		for _, st := range []fulltext.Step{
			{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone},
			{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming},
			{Op: fulltext.OpStream, Status: fulltext.OpCompleted},
		} {
			if err := s.Step(b.Context(), l, st); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Finish(b.Context(), l, fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK,
			Code: fulltext.CodeOKPDF, Result: &fulltext.Result{Kind: fulltext.KindPDF, Source: "openalex", Bytes: 1}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStep is one ledger write (a fenced transaction).
func BenchmarkStep(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "jobs.db"), nil)
	if _, err := s.Plan(b.Context(), benchWorks(0, 1)); err != nil {
		b.Fatal(err)
	}
	jobs, err := s.Claim(b.Context(), "bench", 1, time.Hour)
	if err != nil || len(jobs) != 1 {
		b.Fatal(len(jobs), err)
	}
	l := jobs[0].Lease()
	for b.Loop() {
		if err := s.Step(b.Context(), l, fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpStarted}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParallelClaimFinish is P2's bookkeeping: 16 workers at once,
// each claiming one job and finishing it FAILED with one attempt recorded.
// Concurrent writes share group transactions. Run with a fixed count, e.g.
// -benchtime=20000x (b.N jobs are planned first).
func BenchmarkParallelClaimFinish(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "jobs.db"), nil)
	for i := 0; i < b.N; i += 10000 {
		if _, err := s.Plan(b.Context(), benchWorks(i, min(10000, b.N-i))); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(16 / max(1, runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			jobs, err := s.Claim(b.Context(), "bench", 1, time.Minute)
			if err != nil || len(jobs) != 1 {
				b.Errorf("Claim: %d jobs, %v", len(jobs), err)
				return
			}
			att := fulltext.Attempt{Seq: 1, Source: "openalex", Host: "api.openalex.org", Code: fulltext.CodeNotFound}
			if err := s.Finish(b.Context(), jobs[0].Lease(), fulltext.Finish{State: fulltext.StateFailed,
				Outcome: fulltext.CodeNotFound.Outcome(), Code: fulltext.CodeNotFound,
				Attempts: []fulltext.Attempt{att}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	g, w := s.groupStats()
	b.ReportMetric(float64(w)/float64(max(g, 1)), "writes/txn")
}
