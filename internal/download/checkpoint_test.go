package download_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
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
// when set, is called after each write with the temp's size.
type crashStore struct {
	*filestore.Store
	crashAfter int // 0: never crash
	onWrite    func(size int64)
	offsets    []int64 // the checkpoints made, in order
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
	if err := t.TempArtifact.(fulltext.Checkpointer).Checkpoint(ctx, k, info); err != nil {
		return err
	}
	t.s.offsets = append(t.s.offsets, t.Size())
	t.past = 0
	return nil
}

func (t *crashTemp) Abort() error {
	if t.crashed {
		return nil // the process is dead: nothing cleans up
	}
	return t.TempArtifact.Abort()
}

// TestCheckpointCrashResume: a transfer "killed" after two checkpoints
// leaves its temp; the reconciler's RecoverTemp makes its checkpointed
// bytes the job's kept prefix; the next attempt (new epoch, new store
// handle, new Downloader) sends Range: bytes=<second checkpoint>-, the
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
	content := makePDF(4 << 20)
	size := int64(len(content))
	fs := &flakyServer{content: content, etag: `"big-1"`, modtime: time.Unix(1_700_000_000, 0)}
	srv := httptest.NewServer(fs)
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
	if len(cs.offsets) != 2 || cs.offsets[0] < 1<<20 || cs.offsets[1] < 2<<20 {
		t.Fatalf("checkpoints at %v, want two, 1 MiB apart", cs.offsets)
	}
	sentFirst := fs.sent.Load()
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
		if err != nil || !kept || k != (fulltext.ResumeKey{JobID: lease.JobID, URL: cand.URL}) || info.Offset != cs.offsets[1] || info.Total != size {
			t.Fatalf("RecoverTemp = %+v %+v %v %v; want offset %d of %d", k, info, kept, err, cs.offsets[1], size)
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
	wantRange := fmt.Sprintf("bytes=%d-", cs.offsets[1])
	if len(reqs) != 1 || reqs[0].Get("Range") != wantRange || reqs[0].Get("If-Range") != `"big-1"` {
		t.Fatalf("second attempt sent %d requests (first Range %q If-Range %q), want one with %s", len(reqs), reqs[0].Get("Range"), reqs[0].Get("If-Range"), wantRange)
	}
	if got := commitBytes(t, srv, st2, f); !bytes.Equal(got, content) {
		t.Fatalf("stored %d bytes, not the original %d", len(got), size)
	}
	sentSecond := fs.sent.Load() - sentFirst
	if sentSecond != size-cs.offsets[1] {
		t.Errorf("second attempt: %d bytes sent, want %d (the rest after the checkpoint)", sentSecond, size-cs.offsets[1])
	}
	// The first attempt's count includes what the server wrote ahead into
	// socket buffers before the "crash"; the second's is exact.
	t.Logf("file %d bytes, checkpoints %v, bytes sent after the crash %d", size, cs.offsets, sentSecond)
	if temps, _ := st2.Temps(t.Context()); len(temps) != 0 {
		t.Errorf("temps left: %v", temps)
	}
	if jobs, _ := st2.KeptJobs(t.Context()); len(jobs) != 0 {
		t.Errorf("kept prefixes left for %v", jobs)
	}
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
		{3 << 20, download.Config{CheckpointBytes: 1 << 20, CheckpointInterval: -1}, 2},
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
			f, err := download.New(tc.cfg, srv.Client(), cs).Fetch(t.Context(), lease, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			_ = f.Abort()
			if len(cs.offsets) != tc.want {
				t.Fatalf("%d checkpoints (%v), want %d", len(cs.offsets), cs.offsets, tc.want)
			}
		})
	}
}

// TestStopKeepsBody: a body in flight when the caller stops (ctx
// cancelled, as at a graceful stop past its grace) is kept for the next
// attempt once past MinCheckpointBytes.
func TestStopKeepsBody(t *testing.T) {
	t.Parallel()
	content := makePDF(4 << 20)
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
