package telemetry

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/sqlite"
)

type reportEnv struct {
	store  *sqlite.Store
	clock  *fulltext.StubClock
	events string
	rec    *Recorder
	sink   *Sink
}

func setupReport(t *testing.T) *reportEnv {
	t.Helper()
	dir := t.TempDir()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "jobs.sqlite"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	events := filepath.Join(dir, "events.jsonl")
	sink, err := OpenSink(SinkConfig{Path: events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	return &reportEnv{store: st, clock: clock, events: events, sink: sink, rec: NewRecorder(sink, NewMetrics(newRegistry()), clock)}
}

func (e *reportEnv) plan(t *testing.T, ids ...string) {
	t.Helper()
	var works []fulltext.Work
	for _, id := range ids {
		w, err := fulltext.ParseWork(id)
		if err != nil {
			t.Fatal(err)
		}
		works = append(works, w)
	}
	res, err := e.store.Plan(t.Context(), works)
	if err != nil {
		t.Fatal(err)
	}
	e.rec.Planned(works, res)
}

// claim leases the oldest claimable job, telling the recorder the Claim
// took d.
func (e *reportEnv) claim(t *testing.T, d time.Duration) fulltext.Job {
	t.Helper()
	jobs, err := e.store.Claim(t.Context(), "test", 1, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	e.rec.JobLeased(jobs[0], d)
	return jobs[0]
}

func (e *reportEnv) finishOK(t *testing.T, j fulltext.Job, source string) {
	t.Helper()
	atts := []fulltext.Attempt{{Seq: 1, Source: "unpaywall", Code: fulltext.CodeNoOALocation, At: e.clock.Now()},
		{Seq: 2, Source: source, Host: source + ".example.org", URL: "https://" + source + ".example.org/x.pdf", Code: fulltext.CodeOKPDF, Bytes: 1000, At: e.clock.Now()}}
	if err := e.store.AddAttempts(t.Context(), j.Lease(), atts); err != nil {
		t.Fatal(err)
	}
	f := fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
		Result: &fulltext.Result{Kind: fulltext.KindPDF, Source: source, URL: atts[1].URL, SHA256: "ab", Bytes: 1000, Path: "pdf/x.pdf"}}
	if err := e.store.Finish(t.Context(), j.Lease(), f); err != nil {
		t.Fatal(err)
	}
	e.rec.JobFinished(j, f, atts)
}

func (e *reportEnv) finishCode(t *testing.T, j fulltext.Job, code fulltext.Code) {
	t.Helper()
	atts := []fulltext.Attempt{{Seq: 1, Source: "unpaywall", Code: code, At: e.clock.Now()}}
	if err := e.store.AddAttempts(t.Context(), j.Lease(), atts); err != nil {
		t.Fatal(err)
	}
	f := fulltext.Finish{State: fulltext.StateFailed, Outcome: code.Outcome(), Code: code}
	if err := e.store.Finish(t.Context(), j.Lease(), f); err != nil {
		t.Fatal(err)
	}
	e.rec.JobFinished(j, f, atts)
}

func (e *reportEnv) report(t *testing.T) Report {
	t.Helper()
	if err := e.sink.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Compute(t.Context(), e.store, e.events, SLOConfig{}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func slo(t *testing.T, rep Report, name string) SLOResult {
	t.Helper()
	for _, s := range rep.SLOs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no SLO %s in %+v", name, rep.SLOs)
	return SLOResult{}
}

func TestReportCleanRunMeetsEverySLO(t *testing.T) {
	t.Parallel()
	e := setupReport(t)
	e.plan(t, "10.5555/a", "10.5555/b", "10.5555/c")
	for i := range 3 {
		j := e.claim(t, time.Duration(i+1)*time.Millisecond)
		e.clock.Advance(10 * time.Second)
		if i == 2 {
			e.finishCode(t, j, fulltext.CodeNoOALocation) // absent is a decided outcome
			continue
		}
		e.finishOK(t, j, "arxiv")
	}
	rep := e.report(t)
	if rep.Violated {
		t.Fatalf("clean run violates an SLO: %+v", rep.SLOs)
	}
	if rep.Jobs != 3 || rep.Completed != 3 || rep.CompletionPercent != 100 {
		t.Errorf("jobs %d completed %d (%.1f %%), want 3, 3, 100", rep.Jobs, rep.Completed, rep.CompletionPercent)
	}
	if rep.LeaseAcquire.Count != 3 || rep.LeaseAcquire.P99 != 0.003 {
		t.Errorf("lease acquire %+v, want 3 claims, p99 3ms", rep.LeaseAcquire)
	}
	// Planned at t0; finished at +10s, +20s, +30s.
	if rep.TimeToTerminal.P50 != 20 || rep.TimeToTerminal.P99 != 30 {
		t.Errorf("time to terminal %+v, want p50 20s, p99 30s", rep.TimeToTerminal)
	}
	if len(rep.Sources) != 2 || rep.Sources[0].Source != "arxiv" || rep.Sources[0].Won != 2 || rep.Sources[0].YieldPercent != 100 {
		t.Errorf("sources %+v, want arxiv first with 2 wins", rep.Sources)
	}
	if u := rep.Sources[1]; u.Source != "unpaywall" || u.Works != 3 || u.Won != 0 {
		t.Errorf("unpaywall yield %+v", u)
	}
	for _, s := range rep.SLOs {
		if !s.Evaluated {
			t.Errorf("SLO %s not evaluated with data present", s.Name)
		}
	}
}

func TestReportDegradedRunNamesTheViolatedSLOs(t *testing.T) {
	t.Parallel()
	e := setupReport(t)
	e.plan(t, "10.5555/a", "10.5555/b", "10.5555/c")

	a := e.claim(t, time.Millisecond)
	e.finishOK(t, a, "pmc")
	b := e.claim(t, 2*time.Millisecond)
	e.finishCode(t, b, fulltext.CodeServerError) // given up: not completed

	// c crashes mid-stream; the reconciler reclaims it and a new holder
	// replays STREAM.
	c := e.claim(t, 500*time.Millisecond)
	if err := e.store.Step(t.Context(), c.Lease(), fulltext.Step{Op: fulltext.OpStream, Status: fulltext.OpStarted, To: fulltext.StateStreaming}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	recs, err := e.store.Reconcile(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.rec.Recovered(recs)
	c2 := e.claim(t, time.Millisecond)
	if c2.ID != c.ID || c2.Epoch <= c.Epoch {
		t.Fatalf("reclaimed %d epoch %d, want job %d after epoch %d", c2.ID, c2.Epoch, c.ID, c.Epoch)
	}
	e.rec.JobReplayed(c2, []fulltext.Op{fulltext.OpStream})
	e.clock.Advance(3 * time.Minute)
	e.finishOK(t, c2, "pmc")
	e.plan(t, "10.5555/d") // never claimed

	rep := e.report(t)
	if !rep.Violated {
		t.Fatal("degraded run reported no violation")
	}
	if s := slo(t, rep, "completion"); s.OK || s.Actual != 50 {
		t.Errorf("completion %+v, want violated at 50 %%", s)
	}
	if s := slo(t, rep, "time_to_terminal_p95"); s.OK || s.Actual != 300 {
		t.Errorf("time to terminal %+v, want violated at 300 s", s)
	}
	if s := slo(t, rep, "lease_acquire_p99"); s.OK || s.Actual != 0.5 {
		t.Errorf("lease acquire %+v, want violated at 0.5 s", s)
	}
	if s := slo(t, rep, "replay_rate"); s.OK || rep.Replayed != 1 || rep.Claimed != 3 {
		t.Errorf("replay %+v (replayed %d of %d), want violated, 1 of 3", s, rep.Replayed, rep.Claimed)
	}
	if rep.Recovered != 1 || rep.RecoveredOK != 1 || rep.ReconcilerActions["lease_expired"] < 1 {
		t.Errorf("recovery %d/%d actions %v", rep.RecoveredOK, rep.Recovered, rep.ReconcilerActions)
	}
}

func TestReportEmptyStoreEvaluatesNothing(t *testing.T) {
	t.Parallel()
	e := setupReport(t)
	rep := e.report(t)
	if rep.Violated {
		t.Fatal("empty store violates an SLO")
	}
	for _, s := range rep.SLOs {
		if s.Evaluated {
			t.Errorf("%s evaluated without data", s.Name)
		}
	}
}

func TestCompleted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state fulltext.JobState
		code  fulltext.Code
		want  bool
	}{
		{fulltext.StateFinalized, fulltext.CodeOKPDF, true},
		{fulltext.StateDeduped, fulltext.CodeOKExisting, true},
		{fulltext.StateFailed, fulltext.CodeNoOALocation, true},
		{fulltext.StateFailed, fulltext.CodeBlockedChallenge, true},
		{fulltext.StateFailed, fulltext.CodeWrongType, true},
		{fulltext.StateFailed, fulltext.CodeSkipRobots, true},
		{fulltext.StateFailed, fulltext.CodeSkipBreaker, false},
		{fulltext.StateFailed, fulltext.CodeServerError, false},
		{fulltext.StateFailed, fulltext.CodeBudgetExhausted, false},
		{fulltext.StateFailed, fulltext.CodeStoreError, false},
		{fulltext.StatePlanned, fulltext.CodeServerError, false},
		{fulltext.StateStreaming, "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.state)+"/"+string(tt.code), func(t *testing.T) {
			t.Parallel()
			j := fulltext.Job{State: tt.state, Code: tt.code, Outcome: tt.code.Outcome()}
			if got := completed(j); got != tt.want {
				t.Errorf("completed(%s, %s) = %v, want %v", tt.state, tt.code, got, tt.want)
			}
		})
	}
}
