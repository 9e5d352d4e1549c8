package download_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// cutWriter passes at most left bytes to the client, counting them, then
// aborts the connection (or, with stall, blocks until the client leaves).
type cutWriter struct {
	http.ResponseWriter
	r     *http.Request
	left  int64
	stall bool
	sent  *atomic.Int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= c.left {
		n, err := c.ResponseWriter.Write(p)
		c.left -= int64(n)
		c.sent.Add(int64(n))
		return n, err
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.sent.Add(int64(n))
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	if c.stall {
		<-c.r.Context().Done()
	}
	panic(http.ErrAbortHandler)
}

// flakyServer serves content with http.ServeContent (Range, If-Range) and
// cuts the first len(cuts) responses after cuts[i] bytes.
type flakyServer struct {
	mu          sync.Mutex
	content     []byte
	etag        string
	modtime     time.Time
	cuts        []int64
	stall       bool
	ignoreRange bool
	requests    []http.Header
	sent        atomic.Int64
}

func (s *flakyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.requests)
	s.requests = append(s.requests, r.Header.Clone())
	content, etag := s.content, s.etag
	s.mu.Unlock()
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/pdf")
	cw := &cutWriter{ResponseWriter: w, r: r, left: 1 << 62, stall: s.stall, sent: &s.sent}
	if i < len(s.cuts) {
		cw.left = s.cuts[i]
	}
	http.ServeContent(cw, r, "x.pdf", s.modtime, bytes.NewReader(content))
}

func (s *flakyServer) setContent(b []byte, etag string) {
	s.mu.Lock()
	s.content, s.etag = b, etag
	s.mu.Unlock()
}

func (s *flakyServer) reqs() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slicesClone(s.requests)
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

func fetchFrom(t *testing.T, s http.Handler, cfg download.Config) (*download.Fetched, *filestore.Store, error) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	st, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	d := download.New(cfg, srv.Client(), st)
	f, err := d.Fetch(t.Context(), lease, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
	if f != nil {
		t.Cleanup(func() { _ = f.Abort() })
	}
	return f, st, err
}

// TestResumeRandomCuts: a server that cuts the connection at random
// offsets; the file arrives byte-identical, through Range requests, with
// fewer than 1.2 × its size transferred.
func TestResumeRandomCuts(t *testing.T) {
	t.Parallel()
	content := makePDF(1 << 20)
	size := int64(len(content))
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 42))
			var cuts []int64
			left := size
			for range 4 {
				c := 1 + rng.Int64N(left-1)
				cuts = append(cuts, c)
				left -= c
				if left < 2 {
					break
				}
			}
			s := &flakyServer{content: content, cuts: cuts, modtime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			if seed%2 == 0 {
				s.etag = `"v1"` // odd seeds resume on Last-Modified
			}
			f, _, err := fetchFrom(t, s, download.Config{})
			if err != nil {
				t.Fatalf("Fetch with cuts %v: %v", cuts, err)
			}
			if f.SHA256 != sha(content) || f.Bytes != size {
				t.Fatalf("got %d bytes sha %s, want the original", f.Bytes, f.SHA256)
			}
			reqs := s.reqs()
			if len(reqs) != len(cuts)+1 {
				t.Fatalf("%d requests for %d cuts", len(reqs), len(cuts))
			}
			for i, h := range reqs[1:] {
				if h.Get("Range") == "" || h.Get("If-Range") == "" {
					t.Fatalf("resumption %d sent Range %q If-Range %q", i+1, h.Get("Range"), h.Get("If-Range"))
				}
			}
			if sent := s.sent.Load(); float64(sent) >= 1.2*float64(size) {
				t.Fatalf("%d bytes sent for a %d-byte file", sent, size)
			}
		})
	}
}

func TestResumeAfterStall(t *testing.T) {
	t.Parallel()
	content := makePDF(200_000)
	s := &flakyServer{content: content, etag: `"s"`, cuts: []int64{70_000}, stall: true}
	f, _, err := fetchFrom(t, s, download.Config{StallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if f.SHA256 != sha(content) || len(s.reqs()) != 2 {
		t.Fatalf("sha %s after %d requests", f.SHA256, len(s.reqs()))
	}
}

// TestResumeRestart: a server that ignores Range, or whose file changed
// (If-Range no longer matches), sends the whole file again; the download
// restarts from zero and keeps only the new bytes.
func TestResumeRestart(t *testing.T) {
	t.Parallel()
	v1, v2 := makePDF(100_000), makePDF(120_000)
	t.Run("range ignored", func(t *testing.T) {
		t.Parallel()
		s := &flakyServer{content: v1, etag: `"a"`, cuts: []int64{50_000}, ignoreRange: true}
		f, st, err := fetchFrom(t, s, download.Config{})
		if err != nil || f.SHA256 != sha(v1) || f.Bytes != int64(len(v1)) {
			t.Fatalf("Fetch = %v", err)
		}
		if temps, _ := st.Temps(t.Context()); len(temps) != 1 || temps[0].Name != f.Temp.Name() {
			t.Fatalf("temps = %v, want only the final one", temps)
		}
	})
	t.Run("file changed", func(t *testing.T) {
		t.Parallel()
		s := &flakyServer{content: v1, etag: `"a"`, cuts: []int64{30_000}}
		var once sync.Once
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-Range") != "" {
				once.Do(func() { s.setContent(v2, `"b"`) })
			}
			s.ServeHTTP(w, r)
		})
		f, _, err := fetchFrom(t, h, download.Config{})
		if err != nil || f.SHA256 != sha(v2) {
			t.Fatalf("Fetch = %v, sha %v; want the new file", err, f)
		}
	})
	t.Run("restart cut too", func(t *testing.T) {
		t.Parallel()
		s := &flakyServer{content: v1, etag: `"a"`, cuts: []int64{50_000, 10_000, 10_000}, ignoreRange: true}
		_, st, err := fetchFrom(t, s, download.Config{})
		if fulltext.CodeOf(err) != fulltext.CodeTruncated {
			t.Fatalf("Fetch = %v, want truncated", err)
		}
		if temps, _ := st.Temps(t.Context()); len(temps) != 0 {
			t.Fatalf("temps left: %v", temps)
		}
	})
}

// TestNoResumeWithoutValidator: without ETag or Last-Modified there is no
// safe If-Range, so a cut body is truncated and nothing is resumed.
func TestNoResumeWithoutValidator(t *testing.T) {
	t.Parallel()
	s := &flakyServer{content: makePDF(100_000), cuts: []int64{40_000}}
	_, st, err := fetchFrom(t, s, download.Config{})
	if fulltext.CodeOf(err) != fulltext.CodeTruncated || len(s.reqs()) != 1 {
		t.Fatalf("Fetch = %v after %d requests; want truncated after 1", err, len(s.reqs()))
	}
	if temps, _ := st.Temps(t.Context()); len(temps) != 0 {
		t.Fatalf("temps left: %v", temps)
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	type r struct {
		first, last, total int64
		ok                 bool
	}
	tests := map[string]r{
		"bytes 0-99/100":                 {0, 99, 100, true},
		"bytes 50-99/*":                  {50, 99, -1, true},
		" bytes 5-5/6 ":                  {5, 5, 6, true},
		"bytes */100":                    {},
		"bytes 10-5/100":                 {},
		"bytes 0-100/100":                {},
		"bytes -1-5/10":                  {},
		"items 0-1/2":                    {},
		"bytes 0-1":                      {},
		"bytes 0-1/x":                    {},
		"":                               {},
		"bytes 0-99999999999999999999/1": {},
	}
	for in, want := range tests {
		f, l, tot, ok := download.ParseContentRange(in)
		if got := (r{f, l, tot, ok}); got != want {
			t.Errorf("ParseContentRange(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 1-2/*", "bytes */5", "", "bytes 9-1/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		first, last, total, ok := download.ParseContentRange(v)
		if !ok {
			return
		}
		if first < 0 || first > last || (total >= 0 && last >= total) || total < -1 {
			t.Fatalf("ParseContentRange(%q) = %d %d %d", v, first, last, total)
		}
		if !strings.HasPrefix(strings.TrimSpace(v), "bytes ") {
			t.Fatalf("accepted %q", v)
		}
	})
}
