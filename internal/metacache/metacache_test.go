package metacache_test

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/metacache"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// api is a loopback API that counts the requests per path and answers
// what its handler says.
type api struct {
	mu    sync.Mutex
	calls map[string]int
	srv   *httptest.Server
}

func newAPI(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *api {
	t.Helper()
	a := &api{calls: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.calls[r.URL.Path]++
		a.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) count(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[path]
}

// standard answers every path with a small JSON body naming the path and
// the request's query, and the headers the path asks for.
func standard(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/max-age":
		w.Header().Set("Cache-Control", "public, max-age=60")
	case "/aged":
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Age", "50")
	case "/expires":
		w.Header().Set("Date", "Sat, 28 Nov 2026 20:00:00 GMT")
		w.Header().Set("Expires", "Sat, 28 Nov 2026 20:02:00 GMT")
	case "/no-store":
		w.Header().Set("Cache-Control", "no-store")
	case "/no-cache":
		w.Header().Set("Cache-Control", "no-cache")
	case "/missing":
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	case "/limited":
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("Set-Cookie", "session=secret")
	case "/big":
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		return
	case "/truncated":
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte(`{"partial":`))
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path":%q,"query":%q}`, r.URL.Path, r.URL.RawQuery)
}

type env struct {
	api    *api
	cache  *metacache.Cache
	client *http.Client
	clock  *fulltext.StubClock
	dir    string
}

func setup(t *testing.T, cfg metacache.Config) *env {
	t.Helper()
	a := newAPI(t, standard)
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	cfg.Dir = filepath.Join(t.TempDir(), "metacache")
	cfg.Clock = clock
	c, err := metacache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{api: a, cache: c, client: &http.Client{Transport: c.Wrap(tr)}, clock: clock, dir: cfg.Dir}
}

type answer struct {
	status int
	header http.Header
	body   string
	err    error
}

func (e *env) do(t *testing.T, method, pathQuery string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.api.srv.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func (e *env) get(t *testing.T, pathQuery string, hdr ...string) answer {
	t.Helper()
	a := e.do(t, http.MethodGet, pathQuery, hdr...)
	if a.err != nil {
		t.Fatalf("GET %s: %v", pathQuery, a.err)
	}
	return a
}

func TestSecondAskIsAnsweredFromDisk(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{})
	first := e.get(t, "/works/W1?select=id")
	second := e.get(t, "/works/W1?select=id")
	if e.api.count("/works/W1") != 1 {
		t.Fatalf("the API was asked %d times, want 1", e.api.count("/works/W1"))
	}
	if second.body != first.body || second.status != 200 || second.header.Get(metacache.HitHeader) != "hit" ||
		second.header.Get("Content-Type") != "application/json" {
		t.Fatalf("cached answer %+v differs from %+v", second, first)
	}
	if first.header.Get(metacache.HitHeader) != "" {
		t.Error("a miss is marked as a hit")
	}
	if s := e.cache.Stats(); s.Hits != 1 || s.Misses != 1 || s.Stores != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCredentialsStayOutOfKeysAndFiles(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{})
	e.get(t, "/v2/10.5555/x?email=alice%40example.org&api_key=SECRET1")
	second := e.get(t, "/v2/10.5555/x?api_key=SECRET2&email=bob%40example.org")
	if e.api.count("/v2/10.5555/x") != 1 || second.header.Get(metacache.HitHeader) != "hit" {
		t.Fatalf("the same question with other credentials was asked again (%d calls)", e.api.count("/v2/10.5555/x"))
	}
	// Only the key is checked here: the body echoes the first query, as
	// the API did.
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		head, _, _ := strings.Cut(string(b), "\n")
		for _, secret := range []string{"SECRET", "alice", "bob"} {
			if strings.Contains(head, secret) || strings.Contains(p, secret) {
				t.Errorf("%s: the entry's key holds a credential: %s", p, head)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"credentials ignored", "https://api.x.org/w?api_key=1&mailto=a@b", "https://api.x.org/w?mailto=c@d&api_key=2", true},
		{"param order ignored", "https://api.x.org/w?a=1&b=2", "https://api.x.org/w?b=2&a=1", true},
		{"host case ignored", "https://API.X.org/w", "https://api.x.org/w", true},
		{"user info ignored", "https://u:p@api.x.org/w", "https://api.x.org/w", true},
		{"other query", "https://api.x.org/w?a=1", "https://api.x.org/w?a=2", false},
		{"other path", "https://api.x.org/w/1", "https://api.x.org/w/2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ra, _ := http.NewRequest(http.MethodGet, tt.a, nil)
			rb, _ := http.NewRequest(http.MethodGet, tt.b, nil)
			ka, kb := metacache.Key(ra), metacache.Key(rb)
			if (ka == kb) != tt.same {
				t.Errorf("Key(%s) = %q, Key(%s) = %q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
			for _, secret := range []string{"api_key", "mailto", "u:p"} {
				if strings.Contains(ka, secret) {
					t.Errorf("key %q holds %s", ka, secret)
				}
			}
		})
	}
	ra, _ := http.NewRequest(http.MethodGet, "https://api.x.org/w", nil)
	rb := ra.Clone(ra.Context())
	rb.Header.Set("Accept", "application/xml")
	if metacache.Key(ra) == metacache.Key(rb) {
		t.Error("answers to another Accept share a key")
	}
}

func TestFreshness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path       string
		freshUntil time.Duration // still a hit just before, a miss at
	}{
		{"/default", 7 * 24 * time.Hour},
		{"/max-age", 60 * time.Second},
		{"/aged", 10 * time.Second},
		{"/expires", 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			e := setup(t, metacache.Config{})
			e.get(t, tt.path)
			e.clock.Advance(tt.freshUntil - time.Second)
			if e.get(t, tt.path); e.api.count(tt.path) != 1 {
				t.Fatalf("asked again while fresh")
			}
			e.clock.Advance(time.Second)
			if e.get(t, tt.path); e.api.count(tt.path) != 2 {
				t.Fatalf("a stale answer was served")
			}
			if e.get(t, tt.path); e.api.count(tt.path) != 2 {
				t.Fatalf("the renewed answer was not kept")
			}
		})
	}
}

func TestNotKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path string
		hdr                []string
	}{
		{"no-store", http.MethodGet, "/no-store", nil},
		{"no-cache", http.MethodGet, "/no-cache", nil},
		{"404", http.MethodGet, "/missing", nil},
		{"POST", http.MethodPost, "/search", nil},
		{"HEAD", http.MethodHead, "/head", nil},
		{"Range", http.MethodGet, "/range", []string{"Range", "bytes=0-9"}},
		{"request no-store", http.MethodGet, "/asked-no-store", []string{"Cache-Control", "no-store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, metacache.Config{})
			for range 2 {
				if a := e.do(t, tt.method, tt.path, tt.hdr...); a.err != nil {
					t.Fatal(a.err)
				}
			}
			if n := e.api.count(tt.path); n != 2 {
				t.Fatalf("asked %d times, want 2 (not cacheable)", n)
			}
		})
	}
}

func TestRefreshBypassesAndRenews(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{})
	e.get(t, "/works/W2")
	dir := e.dir
	refresh, err := metacache.New(metacache.Config{Dir: dir, Refresh: true, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: refresh.Wrap(tr)}
	resp, err := c.Get(e.api.srv.URL + "/works/W2")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if e.api.count("/works/W2") != 2 || resp.Header.Get(metacache.HitHeader) != "" {
		t.Fatalf("refresh served from disk (%d calls)", e.api.count("/works/W2"))
	}
	if refresh.Stats().Stores != 1 {
		t.Errorf("the refreshed answer was not stored: %+v", refresh.Stats())
	}
}

func TestExchangeHeadersAreNotReplayed(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{})
	e.get(t, "/limited")
	hit := e.get(t, "/limited")
	if hit.header.Get(metacache.HitHeader) != "hit" {
		t.Fatal("not cached")
	}
	if hit.header.Get("X-RateLimit-Remaining") != "" || hit.header.Get("Set-Cookie") != "" {
		t.Errorf("a stored answer replays exchange headers: %v", hit.header)
	}
}

func TestTruncatedBodyIsNotKept(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{})
	for range 2 {
		if a := e.do(t, http.MethodGet, "/truncated"); a.err == nil {
			t.Fatalf("a truncated body read without error: %q", a.body)
		}
	}
	if e.api.count("/truncated") != 2 || e.cache.Stats().Stores != 0 {
		t.Fatalf("a truncated answer was kept (%d calls, %+v)", e.api.count("/truncated"), e.cache.Stats())
	}
}

func TestLargeAnswerPassesThrough(t *testing.T) {
	t.Parallel()
	e := setup(t, metacache.Config{MaxEntryBytes: 1000})
	for range 2 {
		if a := e.get(t, "/big"); len(a.body) != 5000 {
			t.Fatalf("body of %d bytes, want 5000", len(a.body))
		}
	}
	if e.api.count("/big") != 2 || e.cache.Stats().Stores != 0 {
		t.Fatalf("an answer over MaxEntryBytes was kept")
	}
}

func TestSizeIsBounded(t *testing.T) {
	t.Parallel()
	const maxBytes = 4000
	e := setup(t, metacache.Config{MaxBytes: maxBytes})
	for i := range 60 {
		e.get(t, fmt.Sprintf("/works/W%d", i))
	}
	var total int64
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		total += info.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > maxBytes || e.cache.Stats().Evictions == 0 {
		t.Fatalf("%d bytes on disk (bound %d), %+v", total, maxBytes, e.cache.Stats())
	}
	// The newest answer survived.
	if e.get(t, "/works/W59"); e.api.count("/works/W59") != 1 {
		t.Error("the newest entry was evicted")
	}
}
