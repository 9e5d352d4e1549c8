package sqlite

import (
	"path/filepath"
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
