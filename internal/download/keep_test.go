package download_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// attemptServer serves s in two phases. In the first, the first response
// is cut by s.cuts and every later request is refused with 503, so that the
// in-fetch resumption gives up and the attempt fails; in the second (after
// next), s serves normally.
type attemptServer struct {
	*flakyServer
	ignoreRange2 bool // the second phase ignores Range; set before second
	second       atomic.Bool
	mu2          sync.Mutex
	reqs2        []http.Header // requests of the second phase, as sent
}

func (a *attemptServer) secondReqs() []http.Header {
	a.mu2.Lock()
	defer a.mu2.Unlock()
	return slicesClone(a.reqs2)
}

func (a *attemptServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.second.Load() && len(a.reqs()) >= len(a.cuts) {
		a.mu.Lock()
		a.requests = append(a.requests, r.Header.Clone())
		a.mu.Unlock()
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if a.second.Load() {
		a.mu2.Lock()
		a.reqs2 = append(a.reqs2, r.Header.Clone())
		a.mu2.Unlock()
		if a.ignoreRange2 {
			r.Header.Del("Range")
		}
	}
	a.flakyServer.ServeHTTP(w, r)
}

// attempt fetches the candidate for lease with a new Downloader on a store
// opened anew at dir, as a new process would.
func attempt(t *testing.T, srv *httptest.Server, dir string, l fulltext.Lease) (*download.Fetched, *filestore.Store, error) {
	t.Helper()
	st, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	d := download.New(download.Config{}, srv.Client(), st)
	f, err := d.Fetch(t.Context(), l, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
	if f != nil {
		t.Cleanup(func() { _ = f.Abort() })
	}
	return f, st, err
}

// firstAttempt runs the failing first attempt: it must end truncated with
// the prefix kept and no lease temp left.
func firstAttempt(t *testing.T, srv *httptest.Server, dir string) {
	t.Helper()
	_, st, err := attempt(t, srv, dir, fulltext.Lease{JobID: lease.JobID, Epoch: 1})
	if c := fulltext.CodeOf(err); c != fulltext.CodeTruncated {
		t.Fatalf("first attempt = %v, want truncated", err)
	}
	if jobs, err := st.KeptJobs(t.Context()); err != nil || len(jobs) != 1 || jobs[0] != lease.JobID {
		t.Fatalf("kept jobs = %v, %v; want [%d]", jobs, err, lease.JobID)
	}
	if temps, _ := st.Temps(t.Context()); len(temps) != 0 {
		t.Fatalf("lease temps left: %v", temps)
	}
}

// commitBytes commits f and returns the stored bytes.
func commitBytes(t *testing.T, srv *httptest.Server, st *filestore.Store, f *download.Fetched) []byte {
	t.Helper()
	d := download.New(download.Config{}, srv.Client(), st)
	a, err := d.Commit(t.Context(), f, workID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := st.Open(t.Context(), a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResumeAcrossAttempts: the first attempt is cut at a random offset and
// cannot resume; a second attempt (new lease epoch, new store handle, new
// Downloader — as after a crash) continues with Range + If-Range from the
// kept prefix. The stored file is byte-identical and fewer than 1.2 × its
// size crossed the wire.
func TestResumeAcrossAttempts(t *testing.T) {
	t.Parallel()
	content := makePDF(1 << 20)
	size := int64(len(content))
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			cut := download.HeadSize + 1 + rng.Int64N(size-download.HeadSize-2)
			s := &attemptServer{flakyServer: &flakyServer{content: content, cuts: []int64{cut},
				modtime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
			if seed%2 == 0 {
				s.etag = `"v1"` // odd seeds resume on Last-Modified
			}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			firstAttempt(t, srv, dir)

			s.second.Store(true)
			f, st, err := attempt(t, srv, dir, fulltext.Lease{JobID: lease.JobID, Epoch: 2})
			if err != nil {
				t.Fatalf("second attempt after a cut at %d: %v", cut, err)
			}
			if f.SHA256 != sha(content) || f.Bytes != size {
				t.Fatalf("got %d bytes sha %s, want the original", f.Bytes, f.SHA256)
			}
			reqs := s.secondReqs()
			if len(reqs) != 1 {
				t.Fatalf("%d requests in the second attempt, want 1", len(reqs))
			}
			if got, want := reqs[0].Get("Range"), fmt.Sprintf("bytes=%d-", cut); got != want || reqs[0].Get("If-Range") == "" {
				t.Fatalf("second attempt sent Range %q If-Range %q, want %q and a validator", got, reqs[0].Get("If-Range"), want)
			}
			sent := s.sent.Load()
			if float64(sent) >= 1.2*float64(size) {
				t.Fatalf("%d bytes sent for a %d-byte file", sent, size)
			}
			t.Logf("cut at %d: %d bytes sent for a %d-byte file (%.3f×)", cut, sent, size, float64(sent)/float64(size))
			if jobs, _ := st.KeptJobs(t.Context()); len(jobs) != 0 {
				t.Fatalf("kept prefixes left after the resumed download: %v", jobs)
			}
			if got := commitBytes(t, srv, st, f); !bytes.Equal(got, content) {
				t.Fatalf("stored %d bytes differ from the original", len(got))
			}
		})
	}
}

// TestResumeAcrossAttemptsRestart: when the server changed the file, ignores
// Range, or cannot satisfy the range, the second attempt drops the kept
// prefix and stores the server's current file, read from byte zero.
func TestResumeAcrossAttemptsRestart(t *testing.T) {
	t.Parallel()
	v1, v2 := makePDF(100_000), makePDF(120_000)
	short := makePDF(20_000)
	tests := map[string]struct {
		then        []byte
		etag        string
		ignoreRange bool
		want        []byte
	}{
		"file changed":       {then: v2, etag: `"b"`, want: v2},
		"range ignored":      {then: v1, etag: `"a"`, ignoreRange: true, want: v1},
		"range unsatisfied":  {then: short, etag: `"a"`, want: short},
		"unchanged (resume)": {then: v1, etag: `"a"`, want: v1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &attemptServer{flakyServer: &flakyServer{content: v1, etag: `"a"`, cuts: []int64{50_000}}}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			firstAttempt(t, srv, dir)

			s.setContent(tc.then, tc.etag)
			s.ignoreRange2 = tc.ignoreRange
			s.second.Store(true)
			f, st, err := attempt(t, srv, dir, fulltext.Lease{JobID: lease.JobID, Epoch: 2})
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			if f.SHA256 != sha(tc.want) || f.Bytes != int64(len(tc.want)) {
				t.Fatalf("got %d bytes sha %s, want %d bytes", f.Bytes, f.SHA256, len(tc.want))
			}
			if h := s.secondReqs()[0]; h.Get("Range") != "bytes=50000-" || h.Get("If-Range") != `"a"` {
				t.Fatalf("second attempt sent Range %q If-Range %q", h.Get("Range"), h.Get("If-Range"))
			}
			if jobs, _ := st.KeptJobs(t.Context()); len(jobs) != 0 {
				t.Fatalf("kept prefixes left: %v", jobs)
			}
			if got := commitBytes(t, srv, st, f); !bytes.Equal(got, tc.want) {
				t.Fatalf("stored bytes differ")
			}
		})
	}
}

// plainStore hides the filestore's ResumableStore methods, as a store that
// cannot keep prefixes.
type plainStore struct{ fulltext.ArtifactStore }

// TestNoKeepWithoutResumableStore: with a store that cannot keep prefixes
// the failed attempt leaves nothing and the next one starts from zero.
func TestNoKeepWithoutResumableStore(t *testing.T) {
	t.Parallel()
	content := makePDF(100_000)
	s := &attemptServer{flakyServer: &flakyServer{content: content, etag: `"a"`, cuts: []int64{50_000}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	st, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	d := download.New(download.Config{}, srv.Client(), plainStore{st})
	c := fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}
	if _, err := d.Fetch(t.Context(), lease, c, download.Hooks{}); fulltext.CodeOf(err) != fulltext.CodeTruncated {
		t.Fatalf("first attempt = %v, want truncated", err)
	}
	if jobs, _ := st.KeptJobs(t.Context()); len(jobs) != 0 {
		t.Fatalf("kept through a store that cannot keep: %v", jobs)
	}
	s.second.Store(true)
	f, err := d.Fetch(t.Context(), lease, c, download.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Abort() })
	if f.SHA256 != sha(content) || s.secondReqs()[0].Get("Range") != "" {
		t.Fatalf("sha %s, Range %q: want the whole file from zero", f.SHA256, s.secondReqs()[0].Get("Range"))
	}
}
