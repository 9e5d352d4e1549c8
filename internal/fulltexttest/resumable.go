package fulltexttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// ResumableArtifactStore is an ArtifactStore that keeps prefixes of
// interrupted transfers: what RunResumableStoreTests exercises.
type ResumableArtifactStore interface {
	fulltext.ArtifactStore
	fulltext.ResumableStore
}

// RunResumableStoreTests is the conformance suite of the
// fulltext.ResumableStore contract (internal/fulltext/resume.go). newStore
// returns a fresh, empty store for each subtest; it is called from
// parallel subtests. Store-specific damage (a prefix whose size disagrees
// with its sidecar) is left to each store's own tests.
func RunResumableStoreTests(t *testing.T, newStore func(t *testing.T) ResumableArtifactStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s ResumableArtifactStore)
	}{
		{"KeepThenAdopt", resTestKeepAdopt},
		{"KeepReplaces", resTestKeepReplaces},
		{"AdoptNothing", resTestAdoptNothing},
		{"DropKeptByKey", resTestDropByKey},
		{"DropKeptByJob", resTestDropByJob},
		{"KeptJobs", resTestKeptJobs},
		{"NotTempsNorArtifacts", resTestNotListed},
		{"TempClosedAfterKeep", resTestTempClosed},
		{"KeepCancelled", resTestKeepCancelled},
		{"ConcurrentJobs", resTestConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// resInfo is the info every test keeps; its Offset must be ignored by Keep.
var resInfo = fulltext.ResumeInfo{Validator: `"v1"`, Total: 1 << 30, Offset: 12345}

// resKeep keeps body for k as written by a temp of lease (k.JobID, epoch 1)
// and checks that the temp is closed afterwards (Abort is a no-op).
func resKeep(t *testing.T, s ResumableArtifactStore, k fulltext.ResumeKey, body []byte) {
	t.Helper()
	tmp := artWriteTemp(t, s, fulltext.Lease{JobID: k.JobID, Epoch: 1}, body)
	if err := s.Keep(t.Context(), tmp, k, resInfo); err != nil {
		_ = tmp.Abort()
		t.Fatalf("Keep %+v: %v", k, err)
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort after Keep: %v", err)
	}
}

// resAdopt adopts k and reads the whole prefix.
func resAdopt(t *testing.T, s ResumableArtifactStore, k fulltext.ResumeKey) ([]byte, fulltext.ResumeInfo, bool) {
	t.Helper()
	rc, info, found, err := s.Adopt(t.Context(), k)
	if err != nil {
		t.Fatalf("Adopt %+v: %v", k, err)
	}
	if !found {
		if rc != nil {
			_ = rc.Close()
		}
		return nil, info, false
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Adopt %+v: read: %v", k, err)
	}
	return b, info, true
}

// resWant checks that k adopts exactly body with resInfo's validator and
// total and Offset = len(body).
func resWant(t *testing.T, s ResumableArtifactStore, k fulltext.ResumeKey, body []byte) {
	t.Helper()
	got, info, found := resAdopt(t, s, k)
	want := resInfo
	want.Offset = int64(len(body))
	if !found {
		t.Fatalf("Adopt %+v: nothing found, want %d bytes", k, len(body))
	}
	if !bytes.Equal(got, body) || info != want {
		t.Fatalf("Adopt %+v = %d bytes %+v, want %d bytes %+v (same bytes: %v)",
			k, len(got), info, len(body), want, bytes.Equal(got, body))
	}
}

func resGone(t *testing.T, s ResumableArtifactStore, k fulltext.ResumeKey) {
	t.Helper()
	if got, info, found := resAdopt(t, s, k); found {
		t.Fatalf("Adopt %+v found %d bytes %+v, want nothing", k, len(got), info)
	}
}

func resBody(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func resKeptJobs(t *testing.T, s ResumableArtifactStore) []int64 {
	t.Helper()
	jobs, err := s.KeptJobs(t.Context())
	if err != nil {
		t.Fatalf("KeptJobs: %v", err)
	}
	jobs = slices.Clone(jobs)
	slices.Sort(jobs)
	return slices.Compact(jobs)
}

// Keep then Adopt returns exactly the kept bytes and info, with Offset the
// temp's size (not the caller's); the prefix stays kept after Adopt.
func resTestKeepAdopt(t *testing.T, s ResumableArtifactStore) {
	k := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	body := resBody(300_000)
	resKeep(t, s, k, body)
	resWant(t, s, k, body)
	resWant(t, s, k, body) // still kept until DropKept
}

// A second Keep for the same key replaces the first prefix, longer or
// shorter.
func resTestKeepReplaces(t *testing.T, s ResumableArtifactStore) {
	k := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	resKeep(t, s, k, []byte("first prefix, the longer one"))
	resKeep(t, s, k, []byte("second"))
	resWant(t, s, k, []byte("second"))
	resKeep(t, s, k, []byte("third, longer than the second"))
	resWant(t, s, k, []byte("third, longer than the second"))
}

// Adopt finds only what was kept for the same job and URL.
func resTestAdoptNothing(t *testing.T, s ResumableArtifactStore) {
	k := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	resGone(t, s, k)
	resKeep(t, s, k, []byte("kept"))
	resGone(t, s, fulltext.ResumeKey{JobID: 5, URL: k.URL})
	resGone(t, s, fulltext.ResumeKey{JobID: 4, URL: k.URL + "?x"})
	resGone(t, s, fulltext.ResumeKey{JobID: 40, URL: k.URL})
}

// DropKept by key removes that prefix only; dropping nothing is no error.
func resTestDropByKey(t *testing.T, s ResumableArtifactStore) {
	a := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	b := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/b.pdf"}
	c := fulltext.ResumeKey{JobID: 5, URL: a.URL}
	resKeep(t, s, a, []byte("aaa"))
	resKeep(t, s, b, []byte("bbbb"))
	resKeep(t, s, c, []byte("ccccc"))
	if err := s.DropKept(t.Context(), a); err != nil {
		t.Fatalf("DropKept: %v", err)
	}
	resGone(t, s, a)
	resWant(t, s, b, []byte("bbbb"))
	resWant(t, s, c, []byte("ccccc"))
	for _, k := range []fulltext.ResumeKey{a, {JobID: 99, URL: a.URL}, {JobID: 99}} {
		if err := s.DropKept(t.Context(), k); err != nil {
			t.Fatalf("DropKept %+v of nothing: %v", k, err)
		}
	}
}

// DropKept with an empty URL removes every prefix of the job, and only
// that job's (job 4's do not match job 40's or 14's).
func resTestDropByJob(t *testing.T, s ResumableArtifactStore) {
	keys := []fulltext.ResumeKey{
		{JobID: 4, URL: "https://x.example/a.pdf"},
		{JobID: 4, URL: "https://x.example/b.pdf"},
		{JobID: 40, URL: "https://x.example/a.pdf"},
		{JobID: 14, URL: "https://x.example/b.pdf"},
	}
	for i, k := range keys {
		resKeep(t, s, k, fmt.Appendf(nil, "prefix %d", i))
	}
	if err := s.DropKept(t.Context(), fulltext.ResumeKey{JobID: 4}); err != nil {
		t.Fatalf("DropKept job 4: %v", err)
	}
	resGone(t, s, keys[0])
	resGone(t, s, keys[1])
	resWant(t, s, keys[2], []byte("prefix 2"))
	resWant(t, s, keys[3], []byte("prefix 3"))
	if got := resKeptJobs(t, s); !slices.Equal(got, []int64{14, 40}) {
		t.Fatalf("KeptJobs after dropping job 4 = %v, want [14 40]", got)
	}
}

// KeptJobs lists the jobs with prefixes (each once after sorting and
// compaction, which the suite does: order and duplicates are free).
func resTestKeptJobs(t *testing.T, s ResumableArtifactStore) {
	if got := resKeptJobs(t, s); len(got) != 0 {
		t.Fatalf("KeptJobs of an empty store = %v", got)
	}
	// A temp that is still a temp is no kept prefix.
	tmp := artWriteTemp(t, s, fulltext.Lease{JobID: 9, Epoch: 1}, []byte("in flight"))
	defer func() { _ = tmp.Abort() }()
	resKeep(t, s, fulltext.ResumeKey{JobID: 7, URL: "https://x.example/a.pdf"}, []byte("a"))
	resKeep(t, s, fulltext.ResumeKey{JobID: 7, URL: "https://x.example/b.pdf"}, []byte("b"))
	resKeep(t, s, fulltext.ResumeKey{JobID: 3, URL: "https://x.example/a.pdf"}, []byte("c"))
	if got := resKeptJobs(t, s); !slices.Equal(got, []int64{3, 7}) {
		t.Fatalf("KeptJobs = %v, want [3 7]", got)
	}
	if err := s.DropKept(t.Context(), fulltext.ResumeKey{JobID: 3, URL: "https://x.example/a.pdf"}); err != nil {
		t.Fatalf("DropKept: %v", err)
	}
	if got := resKeptJobs(t, s); !slices.Equal(got, []int64{7}) {
		t.Fatalf("KeptJobs after dropping job 3's only prefix = %v, want [7]", got)
	}
}

// Kept prefixes are not lease temps (a reconciler's sweep of dead leases
// leaves them alone) nor committed artifacts.
func resTestNotListed(t *testing.T, s ResumableArtifactStore) {
	resKeep(t, s, fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}, []byte("kept"))
	live := artWriteTemp(t, s, fulltext.Lease{JobID: 4, Epoch: 2}, []byte("live"))
	defer func() { _ = live.Abort() }()
	temps, err := s.Temps(t.Context())
	if err != nil {
		t.Fatalf("Temps: %v", err)
	}
	if len(temps) != 1 || temps[0].Name != live.Name() || temps[0].JobID != 4 || temps[0].Epoch != 2 {
		t.Fatalf("Temps = %+v, want only the live temp %s", temps, live.Name())
	}
	var paths []string
	if err := s.Walk(t.Context(), func(p string, _ int64) error {
		paths = append(paths, p)
		return nil
	}); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(paths) != 0 {
		t.Fatalf("Walk lists %v, want nothing", paths)
	}
}

// After Keep the temp is closed: it cannot be committed nor written, Abort
// is a no-op that leaves the kept bytes alone.
func resTestTempClosed(t *testing.T, s ResumableArtifactStore) {
	k := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	body := []byte("the kept prefix")
	tmp := artWriteTemp(t, s, fulltext.Lease{JobID: 4, Epoch: 1}, body)
	if err := s.Keep(t.Context(), tmp, k, resInfo); err != nil {
		_ = tmp.Abort()
		t.Fatalf("Keep: %v", err)
	}
	if _, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/x.pdf", Kind: fulltext.KindPDF}); err == nil {
		t.Fatal("Commit of a kept temp succeeded")
	}
	if err := s.Keep(t.Context(), tmp, k, resInfo); err == nil {
		t.Fatal("a second Keep of the same temp succeeded")
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort after Keep: %v", err)
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("second Abort after Keep: %v", err)
	}
	resWant(t, s, k, body)
	if _, err := s.Stat(t.Context(), "pdf/x.pdf"); err == nil {
		t.Fatal("the refused Commit left an artifact")
	}
}

// Keep with a cancelled context fails and leaves the temp to the caller,
// whose Abort removes it; nothing is kept.
func resTestKeepCancelled(t *testing.T, s ResumableArtifactStore) {
	k := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	tmp := artWriteTemp(t, s, fulltext.Lease{JobID: 4, Epoch: 1}, []byte("body"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Keep(ctx, tmp, k, resInfo); err == nil {
		t.Fatal("Keep with a cancelled context succeeded")
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort after a failed Keep: %v", err)
	}
	if temps, err := s.Temps(t.Context()); err != nil || len(temps) != 0 {
		t.Fatalf("Temps after Abort = %v, %v", temps, err)
	}
	resGone(t, s, k)
	if got := resKeptJobs(t, s); len(got) != 0 {
		t.Fatalf("KeptJobs = %v, want none", got)
	}
}

// Jobs keeping, adopting and dropping prefixes at the same time do not see
// each other's bytes.
func resTestConcurrent(t *testing.T, s ResumableArtifactStore) {
	const jobs = 6
	const url = "https://x.example/same.pdf"
	bodies := make([][]byte, jobs)
	for i := range bodies {
		bodies[i] = resBody(1000 + 997*i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for i := range jobs {
		wg.Go(func() {
			k := fulltext.ResumeKey{JobID: int64(100 + i), URL: url}
			errs <- resRound(t.Context(), s, k, bodies[i], i%2 == 0)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var want []int64
	for i := 1; i < jobs; i += 2 {
		want = append(want, int64(100+i))
	}
	if got := resKeptJobs(t, s); !slices.Equal(got, want) {
		t.Fatalf("KeptJobs = %v, want %v (the jobs that did not drop)", got, want)
	}
}

// resRound keeps body twice for k (the second replaces the first), adopts
// it and checks the bytes, and drops it when drop is set. It runs off the
// test goroutine: errors are returned.
func resRound(ctx context.Context, s ResumableArtifactStore, k fulltext.ResumeKey, body []byte, drop bool) error {
	for _, b := range [][]byte{body[:len(body)/2], body} {
		tmp, err := s.Create(ctx, fulltext.Lease{JobID: k.JobID, Epoch: 1})
		if err != nil {
			return fmt.Errorf("job %d: Create: %w", k.JobID, err)
		}
		if _, err := tmp.Write(b); err != nil {
			_ = tmp.Abort()
			return fmt.Errorf("job %d: Write: %w", k.JobID, err)
		}
		if err := s.Keep(ctx, tmp, k, resInfo); err != nil {
			_ = tmp.Abort()
			return fmt.Errorf("job %d: Keep: %w", k.JobID, err)
		}
	}
	rc, info, found, err := s.Adopt(ctx, k)
	if err != nil {
		return fmt.Errorf("job %d: Adopt: %w", k.JobID, err)
	}
	if !found {
		return fmt.Errorf("job %d: Adopt found nothing", k.JobID)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		return fmt.Errorf("job %d: read the adopted prefix: %w", k.JobID, err)
	}
	if !bytes.Equal(got, body) || info.Offset != int64(len(body)) {
		return fmt.Errorf("job %d: adopted %d bytes (offset %d), want its own %d", k.JobID, len(got), info.Offset, len(body))
	}
	if drop {
		if err := s.DropKept(ctx, fulltext.ResumeKey{JobID: k.JobID}); err != nil {
			return fmt.Errorf("job %d: DropKept: %w", k.JobID, err)
		}
	}
	return nil
}
