package worker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/worker"
)

// crashScene builds the debris of a crashed run: one finalized job whose
// artifact was deleted, one whose artifact was replaced by other bytes,
// one with an expired lease and its temp, one live lease with its temp,
// and one artifact no job refers to.
type crashScene struct {
	missing, corrupt, expired, live fulltext.Job
	liveTemp, deadTemp              string
}

func buildCrashScene(t *testing.T, b *bundle) crashScene {
	t.Helper()
	ctx := t.Context()
	var works []fulltext.Work
	for i := range 4 {
		w, err := fulltext.ParseWork(fmt.Sprintf("10.5555/scene.%d", i))
		if err != nil {
			t.Fatal(err)
		}
		works = append(works, w)
	}
	if _, err := b.store.Plan(ctx, works); err != nil {
		t.Fatal(err)
	}
	var sc crashScene
	// Finalize two jobs with real artifacts, then damage them.
	for i, w := range works[:2] {
		j := b.claim(t, w.ID)
		tmp, err := b.arts.Create(ctx, j.Lease())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(b.pdf); err != nil {
			t.Fatal(err)
		}
		a, err := b.arts.Commit(ctx, tmp, fulltext.ArtifactName{Path: fulltext.ArtifactPath(w.ID, fulltext.KindPDF), Kind: fulltext.KindPDF})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.Finish(ctx, j.Lease(), fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF,
			Result: &fulltext.Result{Kind: fulltext.KindPDF, SHA256: a.SHA256, Bytes: a.Bytes, Path: a.Path}}); err != nil {
			t.Fatal(err)
		}
		if err := b.arts.Remove(ctx, a.Path); err != nil {
			t.Fatal(err)
		}
		if i == 1 { // corrupt: other bytes under the same name
			tmp, err := b.arts.Create(ctx, fulltext.Lease{JobID: 999, Epoch: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tmp.Write(b.pdf[:len(b.pdf)/2]); err != nil {
				t.Fatal(err)
			}
			if _, err := b.arts.Commit(ctx, tmp, fulltext.ArtifactName{Path: a.Path, Kind: fulltext.KindPDF}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sc.missing, sc.corrupt = b.jobOf(t, works[0].ID), b.jobOf(t, works[1].ID)

	// An expired lease with its temp; a live lease (claimed after the
	// clock moved) with its temp.
	exp := b.claimFor(t, works[2].ID, ttl)
	sc.deadTemp = b.temp(t, exp.Lease())
	live := b.claimFor(t, works[3].ID, 10*ttl)
	sc.liveTemp = b.temp(t, live.Lease())
	b.clock.Advance(2 * ttl)
	sc.expired, sc.live = exp, live

	// An orphan: committed content no job names.
	tmp, err := b.arts.Create(ctx, fulltext.Lease{JobID: 998, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("%PDF-1.4 orphan")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.arts.Commit(ctx, tmp, fulltext.ArtifactName{Path: "pdf/orphan.pdf", Kind: fulltext.KindPDF}); err != nil {
		t.Fatal(err)
	}
	return sc
}

func (b *bundle) claim(t *testing.T, id fulltext.WorkID) fulltext.Job {
	t.Helper()
	return b.claimFor(t, id, ttl)
}

// claimFor claims the oldest claimable job, which must be id's.
func (b *bundle) claimFor(t *testing.T, id fulltext.WorkID, d time.Duration) fulltext.Job {
	t.Helper()
	jobs, err := b.store.Claim(t.Context(), "test", 1, d)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim %s: %v (%d jobs)", id, err, len(jobs))
	}
	if jobs[0].Work.ID != id {
		t.Fatalf("claimed %s, want %s (oldest first)", jobs[0].Work.ID, id)
	}
	return jobs[0]
}

func (b *bundle) jobOf(t *testing.T, id fulltext.WorkID) fulltext.Job {
	t.Helper()
	j, err := b.store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (b *bundle) temp(t *testing.T, l fulltext.Lease) string {
	t.Helper()
	tmp, err := b.arts.Create(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	return tmp.Name()
}

func TestReconcileRepairsCrashScene(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	ctx := t.Context()
	// The setup's own planned work is the oldest: take it out of the way.
	b.finishSetupWork(t)
	sc := buildCrashScene(t, b)

	recs, err := worker.Reconcile(ctx, b.store, b.arts, b.log)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Action+" "+fmt.Sprint(r.JobID)] = r.Detail
	}
	for _, want := range []string{
		"lease_expired " + fmt.Sprint(sc.expired.ID),
		worker.ActionTempRemoved + " " + fmt.Sprint(sc.expired.ID),
		worker.ActionArtifactMissing + " " + fmt.Sprint(sc.missing.ID),
		worker.ActionArtifactCorrupt + " " + fmt.Sprint(sc.corrupt.ID),
		worker.ActionOrphanArtifact + " 0",
	} {
		if _, ok := got[want]; !ok {
			t.Errorf("no recovery %q in %v", want, got)
		}
	}
	if len(recs) != 5 {
		t.Errorf("%d recoveries, want 5: %+v", len(recs), recs)
	}
	if d := got[worker.ActionOrphanArtifact+" 0"]; d != "pdf/orphan.pdf" {
		t.Errorf("orphan reported as %q", d)
	}
	if n := strings.Count(b.logs.String(), "crash_recovery"); n != len(recs) {
		t.Errorf("%d crash_recovery events logged for %d recoveries", n, len(recs))
	}
	for _, j := range []fulltext.Job{sc.missing, sc.corrupt, sc.expired} {
		if s := b.jobOf(t, j.Work.ID).State; s != fulltext.StatePlanned {
			t.Errorf("%s is %s after reconcile, want PLANNED", j.Work.ID, s)
		}
	}
	if s := b.jobOf(t, sc.live.Work.ID); s.State != fulltext.StateLeased || s.Epoch != sc.live.Epoch {
		t.Errorf("the live lease was touched: %s epoch %d", s.State, s.Epoch)
	}
	_, temps := b.artifacts(t)
	if len(temps) != 1 || temps[0].Name != sc.liveTemp {
		t.Errorf("temps after reconcile %+v, want only the live %s", temps, sc.liveTemp)
	}

	// Idempotent: a second run only reports the orphan again.
	again, err := worker.Reconcile(ctx, b.store, b.arts, b.log)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].Action != worker.ActionOrphanArtifact {
		t.Errorf("second reconcile = %+v, want only the orphan", again)
	}
}

// TestReconcileConcurrent runs two reconcilers at once over the same crash
// debris, five times: every repair is done exactly once, and nothing fails.
func TestReconcileConcurrent(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			t.Parallel()
			b := setup(t, servePDF)
			b.finishSetupWork(t)
			sc := buildCrashScene(t, b)
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				all  []string
				errs []error
			)
			for range 2 {
				wg.Go(func() {
					recs, err := worker.Reconcile(t.Context(), b.store, b.arts, b.log)
					mu.Lock()
					defer mu.Unlock()
					errs = append(errs, err)
					for _, r := range recs {
						if r.Action != worker.ActionOrphanArtifact { // reported by each, by design
							all = append(all, fmt.Sprintf("%s %d", r.Action, r.JobID))
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			sort.Strings(all)
			want := []string{
				fmt.Sprintf("%s %d", worker.ActionArtifactCorrupt, sc.corrupt.ID),
				fmt.Sprintf("%s %d", worker.ActionArtifactMissing, sc.missing.ID),
				fmt.Sprintf("lease_expired %d", sc.expired.ID),
				fmt.Sprintf("%s %d", worker.ActionTempRemoved, sc.expired.ID),
			}
			sort.Strings(want)
			if strings.Join(all, ",") != strings.Join(want, ",") {
				t.Errorf("recoveries of both reconcilers:\n got %v\nwant %v (each exactly once)", all, want)
			}
			_, temps := b.artifacts(t)
			if len(temps) != 1 || temps[0].Name != sc.liveTemp {
				t.Errorf("temps %+v, want only the live one", temps)
			}
		})
	}
}

// finishSetupWork ends the work setup planned so that the crash scene's
// jobs are the claimable ones.
func (b *bundle) finishSetupWork(t *testing.T) {
	t.Helper()
	j := b.claim(t, b.work.ID)
	if err := b.store.Finish(context.WithoutCancel(t.Context()), j.Lease(), fulltext.Finish{
		State: fulltext.StateFailed, Outcome: fulltext.OutcomeAbsent, Code: fulltext.CodeNotFound,
	}); err != nil {
		t.Fatal(err)
	}
}

// signalHandler is a slog handler that reports each crash_recovery record
// on a channel: the test waits on it instead of sleeping.
type signalHandler struct {
	slog.Handler
	events chan<- string
}

func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "crash_recovery" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "action" {
				select {
				case h.events <- a.Value.String():
				default:
				}
			}
			return true
		})
	}
	return h.Handler.Handle(ctx, r)
}

// TestPoolReconcilesOnItsTimer: a running pool removes the temp of a dead
// lease without a restart.
func TestPoolReconcilesOnItsTimer(t *testing.T) {
	t.Parallel()
	b := setup(t, servePDF)
	b.finishSetupWork(t)
	dead := b.temp(t, fulltext.Lease{JobID: 1, Epoch: 1}) // job 1 is finished: no live lease
	events := make(chan string, 16)
	log := slog.New(signalHandler{Handler: slog.NewTextHandler(b.logs, nil), events: events})
	pool := worker.New(worker.Config{Workers: 1, LeaseTTL: ttl, Clock: b.clock, Logger: log, ReconcileEvery: 5 * time.Millisecond, Follow: true},
		b.store, b.arts, nil, nil, nil)
	stop, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- pool.Run(t.Context(), stop) }()
	select {
	case action := <-events:
		if action != worker.ActionTempRemoved {
			t.Errorf("crash_recovery action %q, want %s", action, worker.ActionTempRemoved)
		}
	case <-t.Context().Done():
		t.Fatal("the pool never reconciled")
	}
	cancel()
	if err := <-done; !errors.Is(err, worker.ErrStopped) {
		t.Errorf("Run = %v, want ErrStopped", err)
	}
	_, temps := b.artifacts(t)
	for _, tmp := range temps {
		if tmp.Name == dead {
			t.Errorf("dead temp %s still there", dead)
		}
	}
}
