package download_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// crashStore is a filestore whose temps "crash" the process: after
// crashAfter checkpoints and one more write (bytes past the checkpoint,
// never synced), the next write fails and nothing more happens to the temp
// — Abort is a no-op, as it would be in a process killed there. onWrite,
// when set, is called after each write with the temp's size. Its temps
// serialise Write and Checkpoint (the downloader runs checkpoints in a
// goroutine), so that each checkpoint's offset is known.
type crashStore struct {
	*filestore.Store
	crashAfter int // 0: never crash
	onWrite    func(size int64)
	// awaitFirst > 0 holds a Write past that size until a first checkpoint
	// is made: the downloader's checkpoints run in a goroutine, which a
	// loaded machine may not schedule before the body ends.
	awaitFirst int64
	first      chan struct{} // closed at the first checkpoint (when awaitFirst > 0)

	mu      sync.Mutex
	offsets []int64 // the checkpoints made, in order
}

func (s *crashStore) checkpoints() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.offsets...)
}

type crashTemp struct {
	fulltext.TempArtifact
	s       *crashStore
	past    int // writes after the last checkpoint
	crashed bool
}

var errCrash = errors.New("process killed")

func (s *crashStore) Create(ctx context.Context, l fulltext.Lease) (fulltext.TempArtifact, error) {
	tmp, err := s.Store.Create(ctx, l)
	if err != nil {
		return nil, err
	}
	return &crashTemp{TempArtifact: tmp, s: s}, nil
}

// Keep keeps the filestore temp inside a crashTemp.
func (s *crashStore) Keep(ctx context.Context, tmp fulltext.TempArtifact, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	if ct, ok := tmp.(*crashTemp); ok {
		tmp = ct.TempArtifact
	}
	return s.Store.Keep(ctx, tmp, k, info)
}

func (t *crashTemp) Write(p []byte) (int, error) {
	if t.s.awaitFirst > 0 && t.TempArtifact.Size() >= t.s.awaitFirst {
		select {
		case <-t.s.first:
		case <-time.After(10 * time.Second): // a bound, not a synchronisation: the test then fails on the count
		}
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.crashed {
		return 0, errCrash
	}
	if t.s.crashAfter > 0 && len(t.s.offsets) >= t.s.crashAfter {
		if t.past++; t.past > 1 {
			t.crashed = true
			return 0, errCrash
		}
	}
	n, err := t.TempArtifact.Write(p)
	if t.s.onWrite != nil {
		t.s.onWrite(t.Size())
	}
	return n, err
}

func (t *crashTemp) Checkpoint(ctx context.Context, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if err := t.TempArtifact.(fulltext.Checkpointer).Checkpoint(ctx, k, info); err != nil {
		return err
	}
	t.s.offsets = append(t.s.offsets, t.Size())
	t.past = 0
	if t.s.awaitFirst > 0 && len(t.s.offsets) == 1 {
		close(t.s.first)
	}
	return nil
}

func (t *crashTemp) Abort() error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.crashed {
		return nil // the process is dead: nothing cleans up
	}
	return t.TempArtifact.Abort()
}

// TestCheckpointCrashResume: a transfer "killed" after two checkpoints
// leaves its temp; the reconciler's RecoverTemp makes its checkpointed
// bytes the job's kept prefix; the next attempt (new epoch, new store
// handle, new Downloader) sends Range: bytes=<last checkpoint>-, the
// server sends exactly the rest, and the stored file is byte-identical.
// Without a reconciler run in between, the re-claim's Fetch recovers its
// job's dead temp itself.
func TestCheckpointCrashResume(t *testing.T) {
	t.Parallel()
	for _, reconcile := range []bool{true, false} {
		t.Run(fmt.Sprintf("reconcile=%v", reconcile), func(t *testing.T) {
			t.Parallel()
			testCheckpointCrashResume(t, reconcile)
		})
	}
}

func testCheckpointCrashResume(t *testing.T, reconcile bool) {
	t.Helper()
	content := makePDF(8 << 20) // room for two checkpoints even if one is skipped while another runs
	size := int64(len(content))
	fs := &flakyServer{content: content, etag: `"big-1"`, modtime: time.Unix(1_700_000_000, 0)}
	// Bytes sent for Range requests only: the crashed attempt's handler
	// may still be writing into its dead connection after Fetch returned.
	var rangeSent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "" {
			fs.ServeHTTP(w, r)
			return
		}
		fs.ServeHTTP(&countWriter{ResponseWriter: w, n: &rangeSent}, r)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := download.Config{CheckpointBytes: 1 << 20, CheckpointInterval: -1}
	cand := fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}

	st, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := &crashStore{Store: st, crashAfter: 2}
	_, err = download.New(cfg, srv.Client(), cs).Fetch(t.Context(), fulltext.Lease{JobID: lease.JobID, Epoch: 1}, cand, download.Hooks{})
	if !errors.Is(err, errCrash) {
		t.Fatalf("first attempt = %v, want the crash", err)
	}
	// Two checkpoints, and maybe a third that was running at the crash
	// (the stream waits for it): the last one is what a restart trusts.
	offsets := cs.checkpoints()
	if len(offsets) < 2 || offsets[0] < 1<<20 || !slices.IsSorted(offsets) {
		t.Fatalf("checkpoints at %v, want two or more, the first past 1 MiB", offsets)
	}
	last := offsets[len(offsets)-1]
	_ = st.Close()

	// The next process: the reconciler finds the dead lease's temp.
	st2, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st2.Close() })
	temps, err := st2.Temps(t.Context())
	if err != nil || len(temps) != 1 {
		t.Fatalf("temps after the crash = %v, %v; want the crashed one", temps, err)
	}
	if reconcile {
		k, info, kept, err := st2.RecoverTemp(t.Context(), temps[0].Name)
		if err != nil || !kept || k != (fulltext.ResumeKey{JobID: lease.JobID, URL: cand.URL}) || info.Offset != last || info.Total != size {
			t.Fatalf("RecoverTemp = %+v %+v %v %v; want offset %d of %d", k, info, kept, err, last, size)
		}
	}

	before := len(fs.reqs())
	d := download.New(cfg, srv.Client(), st2)
	f, err := d.Fetch(t.Context(), fulltext.Lease{JobID: lease.JobID, Epoch: 2}, cand, download.Hooks{})
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	t.Cleanup(func() { _ = f.Abort() })
	reqs := fs.reqs()[before:]
	wantRange := fmt.Sprintf("bytes=%d-", last)
	if len(reqs) != 1 || reqs[0].Get("Range") != wantRange || reqs[0].Get("If-Range") != `"big-1"` {
		t.Fatalf("second attempt sent %d requests (first Range %q If-Range %q), want one with %s", len(reqs), reqs[0].Get("Range"), reqs[0].Get("If-Range"), wantRange)
	}
	if got := commitBytes(t, srv, st2, f); !bytes.Equal(got, content) {
		t.Fatalf("stored %d bytes, not the original %d", len(got), size)
	}
	if sent := rangeSent.Load(); sent != size-last {
		t.Errorf("second attempt: %d bytes sent, want %d (the rest after the checkpoint)", sent, size-last)
	}
	t.Logf("file %d bytes, checkpoints %v, bytes sent after the crash %d", size, offsets, rangeSent.Load())
	if temps, _ := st2.Temps(t.Context()); len(temps) != 0 {
		t.Errorf("temps left: %v", temps)
	}
	if jobs, _ := st2.KeptJobs(t.Context()); len(jobs) != 0 {
		t.Errorf("kept prefixes left for %v", jobs)
	}
}

// countWriter counts the body bytes written through it.
type countWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// TestCheckpointSmallFiles: bodies of at most MinCheckpointBytes are never
// checkpointed, whatever the interval; a larger one is, every
// CheckpointBytes.
func TestCheckpointSmallFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size int
		cfg  download.Config
		want int
	}{
		{100 << 10, download.Config{CheckpointBytes: 1, CheckpointInterval: time.Nanosecond}, 0},
		{download.MinCheckpointBytes, download.Config{CheckpointBytes: 1}, 0},
		{3 << 20, download.Config{}, 0}, // under the default 8 MiB
		{3 << 20, download.Config{CheckpointBytes: 1 << 20, CheckpointInterval: -1}, 1}, // 1 or 2: one due while another runs is skipped
		{3 << 20, download.Config{CheckpointBytes: -1}, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.size, tc.cfg.CheckpointBytes), func(t *testing.T) {
			t.Parallel()
			content := makePDF(tc.size)
			srv := httptest.NewServer(&flakyServer{content: content, etag: `"e"`, modtime: time.Unix(1_700_000_000, 0)})
			t.Cleanup(srv.Close)
			st, err := filestore.Open(t.TempDir(), filestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			cs := &crashStore{Store: st}
			if tc.want > 0 {
				cs.awaitFirst, cs.first = int64(tc.size)-int64(tc.size)/4, make(chan struct{})
			}
			f, err := download.New(tc.cfg, srv.Client(), cs).Fetch(t.Context(), lease, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			_ = f.Abort()
			got := cs.checkpoints()
			if (tc.want == 0 && len(got) != 0) || len(got) < tc.want || len(got) > 2 {
				t.Fatalf("%d checkpoints (%v), want %d", len(got), got, tc.want)
			}
		})
	}
}

// TestStopKeepsBody: a body in flight when the caller stops (ctx
// cancelled, as at a graceful stop past its grace) is kept for the next
// attempt once past MinCheckpointBytes.
func TestStopKeepsBody(t *testing.T) {
	t.Parallel()
	content := makePDF(32 << 20) // far more than the client buffers when it is stopped at 2 MiB
	fs := &flakyServer{content: content, etag: `"big-1"`, modtime: time.Unix(1_700_000_000, 0)}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	st, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cs := &crashStore{Store: st, onWrite: func(n int64) {
		if n >= 2<<20 {
			cancel()
		}
	}}
	cand := fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}
	_, err = download.New(download.Config{}, srv.Client(), cs).Fetch(ctx, lease, cand, download.Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want cancelled", err)
	}
	rc, info, found, err := st.Adopt(t.Context(), fulltext.ResumeKey{JobID: lease.JobID, URL: cand.URL})
	if err != nil || !found || info.Offset < 2<<20 || info.Total != int64(len(content)) {
		t.Fatalf("Adopt after a stop = %+v %v %v; want the prefix kept", info, found, err)
	}
	_ = rc.Close()
	if temps, _ := st.Temps(t.Context()); len(temps) != 0 {
		t.Errorf("temps left: %v", temps)
	}
}

// BenchmarkFetchCheckpoints measures what checkpoints cost a large body:
// a 64 MiB PDF fetched from loopback into a filestore and committed, with
// the default checkpoints (every 8 MiB: 7 fsyncs and sidecars) and without.
func BenchmarkFetchCheckpoints(b *testing.B) {
	content := makePDF(64 << 20)
	srv := httptest.NewServer(&flakyServer{content: content, etag: `"e"`, modtime: time.Unix(1_700_000_000, 0)})
	b.Cleanup(srv.Close)
	for _, bc := range []struct {
		name string
		cfg  download.Config
	}{
		{"default", download.Config{}},
		{"off", download.Config{CheckpointBytes: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st, err := filestore.Open(b.TempDir(), filestore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			d := download.New(bc.cfg, srv.Client(), st)
			b.SetBytes(int64(len(content)))
			for b.Loop() {
				f, err := d.Fetch(b.Context(), lease, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
				if err != nil {
					b.Fatal(err)
				}
				// Commit fsyncs the temp whole: checkpoints move part of
				// that fsync earlier rather than add to it.
				if _, err := d.Commit(b.Context(), f, workID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
