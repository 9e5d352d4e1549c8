package s3store_test

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/s3store/s3storetest"
	"github.com/oafetch/oafetch/internal/sqlite"
	"github.com/oafetch/oafetch/internal/worker"
)

// TestReconcileOnS3: the reconciler, generic over fulltext.ResumableStore,
// works unchanged on the S3 store. With a finished job and a job whose
// lease expired (a crashed holder), both with kept prefixes, and the dead
// lease's temp still in the bucket: the temp is removed, the finished
// job's prefix is removed (kept_removed), the other job's prefix survives
// both sweeps and is adopted byte for byte.
func TestReconcileOnS3(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	arts, err := s3store.Open(ctx, bucket, "rec", s3storetest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	clock := fulltext.NewStubClock(time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC))
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jobs.sqlite"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var works []fulltext.Work
	for _, in := range []string{"10.5555/done.1", "10.5555/running.1"} {
		w, err := fulltext.ParseWork(in)
		if err != nil {
			t.Fatal(err)
		}
		works = append(works, w)
	}
	if _, err := store.Plan(ctx, works); err != nil {
		t.Fatal(err)
	}
	const ttl = time.Minute
	claimed, err := store.Claim(ctx, "test", 2, ttl)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim = %d jobs, %v", len(claimed), err)
	}
	done, running := claimed[0], claimed[1]
	if done.Work.ID != works[0].ID {
		done, running = running, done
	}
	body := bytes.Repeat([]byte("%PDF-1.7 kept "), 10)
	const url = "https://pub.example/a.pdf"
	for _, j := range []fulltext.Job{done, running} {
		tmp, err := arts.Create(ctx, j.Lease())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := arts.Keep(ctx, tmp, fulltext.ResumeKey{JobID: j.ID, URL: url}, fulltext.ResumeInfo{Validator: `"v"`, Total: 1000}); err != nil {
			_ = tmp.Abort()
			t.Fatal(err)
		}
	}
	// The crashed holder's temp of its next body, never committed.
	dead, err := arts.Create(ctx, running.Lease())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dead.Abort() })
	if err := store.Finish(ctx, done.Lease(), fulltext.Finish{
		State: fulltext.StateFailed, Outcome: fulltext.OutcomeAbsent, Code: fulltext.CodeNotFound,
	}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * ttl)

	recs, err := worker.Reconcile(ctx, store, arts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var keptRemoved, tempsRemoved []int64
	for _, r := range recs {
		switch r.Action {
		case worker.ActionKeptRemoved:
			keptRemoved = append(keptRemoved, r.JobID)
		case worker.ActionTempRemoved:
			tempsRemoved = append(tempsRemoved, r.JobID)
		}
	}
	if !slices.Equal(keptRemoved, []int64{done.ID}) || !slices.Equal(tempsRemoved, []int64{running.ID}) {
		t.Fatalf("kept removed for %v (want [%d]), temps removed for %v (want [%d]); recoveries %+v",
			keptRemoved, done.ID, tempsRemoved, running.ID, recs)
	}
	if jobs, err := arts.KeptJobs(ctx); err != nil || !slices.Equal(jobs, []int64{running.ID}) {
		t.Fatalf("KeptJobs after reconcile = %v, %v; want [%d]", jobs, err, running.ID)
	}
	if temps, err := arts.Temps(ctx); err != nil || len(temps) != 0 {
		t.Fatalf("Temps after reconcile = %+v, %v", temps, err)
	}
	rc, info, found, err := arts.Adopt(ctx, fulltext.ResumeKey{JobID: running.ID, URL: url})
	if err != nil || !found {
		t.Fatalf("Adopt = %v, %v", found, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, body) || info.Offset != int64(len(body)) {
		t.Fatalf("adopted %d bytes (offset %d, %v), want the %d kept", len(got), info.Offset, err, len(body))
	}
}
