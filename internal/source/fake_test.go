package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// fake is one upstream served from testdata/ on loopback, configured by
// options (grab's grabtest style). Unmatched requests get 404 with an empty
// body.
type fake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	routes []route
	seen   []seenRequest
}

type route struct {
	method string
	path   string
	query  url.Values // each listed parameter must be present with this value
	status int
	header http.Header
	body   []byte
	hang   bool // block until the client gives up
}

type seenRequest struct {
	method string
	url    *url.URL
	header http.Header
	body   string
}

type fakeOption func(t *testing.T, f *fake)

// serve answers GET path (and the listed query parameters, "k=v&k2=v2")
// with status and the testdata file (or "" for an empty body). Extra
// headers come as name, value pairs.
func serve(pathQuery string, status int, file string, headers ...string) fakeOption {
	return serveMethod(http.MethodGet, pathQuery, status, file, headers...)
}

func serveMethod(method, pathQuery string, status int, file string, headers ...string) fakeOption {
	return func(t *testing.T, f *fake) {
		t.Helper()
		p, q, _ := strings.Cut(pathQuery, "?")
		vals, err := url.ParseQuery(q)
		if err != nil {
			t.Fatalf("fake: bad query %q: %v", q, err)
		}
		r := route{method: method, path: p, query: vals, status: status, header: http.Header{}}
		for i := 0; i+1 < len(headers); i += 2 {
			r.header.Add(headers[i], headers[i+1])
		}
		if file != "" {
			r.body = readFixture(t, file)
		}
		f.routes = append(f.routes, r)
	}
}

// serveBody answers GET path with a literal body.
func serveBody(pathQuery string, status int, body string, headers ...string) fakeOption {
	return func(t *testing.T, f *fake) {
		t.Helper()
		serve(pathQuery, status, "", headers...)(t, f)
		f.routes[len(f.routes)-1].body = []byte(body)
	}
}

// hang makes GET path block until the client cancels.
func hang(path string) fakeOption {
	return func(_ *testing.T, f *fake) {
		f.routes = append(f.routes, route{method: http.MethodGet, path: path, hang: true})
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func newFake(t *testing.T, opts ...fakeOption) *fake {
	t.Helper()
	f := &fake{}
	for _, o := range opts {
		o(t, f)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{method: r.Method, url: r.URL, header: r.Header.Clone(), body: string(body)})
	f.mu.Unlock()
	for _, rt := range f.routes {
		if rt.method != r.Method || rt.path != r.URL.Path || !queryMatches(rt.query, r.URL.Query()) {
			continue
		}
		if rt.hang {
			<-r.Context().Done()
			return
		}
		for k, vs := range rt.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(rt.status)
		_, _ = w.Write(rt.body)
		return
	}
	w.WriteHeader(http.StatusNotFound)
}

func queryMatches(want, got url.Values) bool {
	for k, vs := range want {
		if got.Get(k) != vs[0] {
			return false
		}
	}
	return true
}

// requests returns what the fake has received so far.
func (f *fake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

var testNow = time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)

// setup builds the source called name pointed at a fake upstream built
// from opts. d's zero fields get test defaults (the fake's client, a
// mailto, a stub clock).
func setup(t *testing.T, name string, cfg Config, d Deps, opts ...fakeOption) (Source, *fake) {
	t.Helper()
	f := newFake(t, opts...)
	if cfg.BaseURL == "" {
		cfg.BaseURL = f.srv.URL
	}
	if d.Client == nil {
		d.Client = f.srv.Client()
	}
	if d.Clock == nil {
		d.Clock = fulltext.NewStubClock(testNow)
	}
	s, err := New(name, cfg, d)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return s, f
}

// work builds a Work from an identifier.
func work(t *testing.T, id string) fulltext.Work {
	t.Helper()
	w, err := fulltext.ParseWork(id)
	if err != nil {
		t.Fatalf("ParseWork(%q): %v", id, err)
	}
	return w
}

// wantCode asserts that err carries code (and, when retryAfter >= 0, that
// RetryAfter).
func wantCode(t *testing.T, err error, code fulltext.Code, retryAfter time.Duration) {
	t.Helper()
	if got := fulltext.CodeOf(err); got != code {
		t.Fatalf("code = %q (err %v), want %q", got, err, code)
	}
	if retryAfter >= 0 {
		var fe *fulltext.Error
		if !errors.As(err, &fe) {
			t.Fatalf("err %v is not a *fulltext.Error", err)
		}
		if fe.RetryAfter != retryAfter {
			t.Fatalf("RetryAfter = %v, want %v", fe.RetryAfter, retryAfter)
		}
	}
}

// urls lists the candidates' URLs.
func urls(cs []fulltext.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.URL
	}
	return out
}

// lookup runs s.Lookup with the test's context.
func lookup(t *testing.T, s Source, w fulltext.Work) (Result, error) {
	t.Helper()
	return s.Lookup(t.Context(), w)
}

// errorCases is the shared table of upstream failures every API source maps
// the same way: the fake serves path with each status.
func errorCases(path string) []struct {
	name  string
	opt   fakeOption
	code  fulltext.Code
	after time.Duration
} {
	return []struct {
		name  string
		opt   fakeOption
		code  fulltext.Code
		after time.Duration
	}{
		{"429 without Retry-After", serveBody(path, 429, `{"message":"Too Many Requests"}`), fulltext.CodeRateLimited, 0},
		{"429 with Retry-After seconds", serveBody(path, 429, ``, "Retry-After", "7"), fulltext.CodeRateLimited, 7 * time.Second},
		{"429 with Retry-After date", serveBody(path, 429, ``, "Retry-After", testNow.Add(90*time.Second).Format(http.TimeFormat)), fulltext.CodeRateLimited, 90 * time.Second},
		{"500", serveBody(path, 500, `oops`), fulltext.CodeServerError, 0},
		{"503", serveBody(path, 503, `<html>Response object too large</html>`), fulltext.CodeServerError, 0},
		{"malformed json", serveBody(path, 200, `{"id": [unterminated`), fulltext.CodeResolverError, -1},
	}
}

// transportCases checks timeout and network-error mapping for a source
// whose first request goes to path.
func transportCases(t *testing.T, name string, cfg Config, d Deps, w fulltext.Work, path string) {
	t.Helper()
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, name, cfg, d, hang(path))
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := s.Lookup(ctx, w)
		wantCode(t, err, fulltext.CodeTimeout, -1)
	})
	t.Run("network error", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		u := f.srv.URL
		f.srv.Close()
		c := cfg
		c.BaseURL = u
		dd := d
		dd.Client = &http.Client{Timeout: 5 * time.Second}
		s, err := New(name, c, dd)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Lookup(t.Context(), w)
		wantCode(t, err, fulltext.CodeNetworkError, -1)
	})
}

// urlQueryEscape escapes a query value the way serve's pathQuery expects.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// post answers POST path with a literal body.
func post(path string, status int, body string) fakeOption {
	return func(_ *testing.T, f *fake) {
		f.routes = append(f.routes, route{method: http.MethodPost, path: path, status: status, body: []byte(body)})
	}
}

func readFixtureFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}
