package download_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestFetchRedirects(t *testing.T) {
	t.Parallel()
	pdf := makePDF(5000)
	routes := map[string]http.HandlerFunc{
		"/a":          redirect(http.StatusFound, "b?x=1"),
		"/b":          redirect(http.StatusMovedPermanently, "/dir/c#frag"),
		"/dir/c":      redirect(http.StatusSeeOther, "../final.pdf"),
		"/final.pdf":  serve("application/pdf", pdf),
		"/loop1":      redirect(http.StatusFound, "/loop2"),
		"/loop2":      redirect(http.StatusTemporaryRedirect, "/loop1"),
		"/self":       redirect(http.StatusPermanentRedirect, "/self"),
		"/nolocation": redirect(http.StatusFound, ""),
		"/ftp":        redirect(http.StatusFound, "ftp://example.org/x.pdf"),
	}
	chain := func(prefix string, n int) {
		for i := range n {
			routes[fmt.Sprintf("/%s%d", prefix, i)] = redirect(http.StatusFound, fmt.Sprintf("/%s%d", prefix, i+1))
		}
		routes[fmt.Sprintf("/%s%d", prefix, n)] = serve("application/pdf", pdf)
	}
	chain("ten", 10)
	chain("eleven", 11)
	b := setup(t, routes, download.Config{}, false, filestore.Options{})

	f, err := b.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: b.srv.URL + "/a", Kind: fulltext.KindPDF, Referer: "https://landing.example/page"}, download.Hooks{})
	if err != nil {
		t.Fatalf("Fetch chain: %v", err)
	}
	want := []string{b.srv.URL + "/a", b.srv.URL + "/b?x=1", b.srv.URL + "/dir/c", b.srv.URL + "/final.pdf"}
	if !slices.Equal(f.Hops, want) || f.FinalURL != want[3] || f.SHA256 != sha(pdf) {
		t.Fatalf("Hops = %v, FinalURL %s", f.Hops, f.FinalURL)
	}
	if got := b.header("/a").Get("Referer"); got != "https://landing.example/page" {
		t.Fatalf("first hop Referer = %q", got)
	}
	if got := b.header("/final.pdf").Get("Referer"); got != "" {
		t.Fatalf("later hop Referer = %q, want none", got)
	}
	_ = f.Abort()

	f, err = b.fetch(t, "/ten0", fulltext.KindPDF)
	if err != nil || len(f.Hops) != 11 {
		t.Fatalf("10 redirects: %v", err)
	}
	_ = f.Abort()

	for path, code := range map[string]fulltext.Code{
		"/eleven0":    fulltext.CodeMaxHops,
		"/loop1":      fulltext.CodeRedirectLoop,
		"/self":       fulltext.CodeRedirectLoop,
		"/nolocation": fulltext.CodeServerError,
		"/ftp":        fulltext.CodeNotFound,
	} {
		if _, err := b.fetch(t, path, fulltext.KindPDF); fulltext.CodeOf(err) != code {
			t.Errorf("%s: %v, want %s", path, err, code)
		}
	}
	if b.header("/eleven11") != nil {
		t.Error("the 12th URL of an 11-redirect chain was requested")
	}
	b.assertClean(t)
}

// TestNoCredentialsForwarded: a transport that authenticates to the
// candidate's host only; the downloader itself never adds credentials, so a
// redirect to another host carries none.
func TestNoCredentialsForwarded(t *testing.T) {
	t.Parallel()
	pdf := makePDF(3000)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" || r.Header.Get("Cookie") != "" {
			http.Error(w, "credentials leaked", http.StatusTeapot)
			return
		}
		serve("application/pdf", pdf)(w, r)
	}))
	t.Cleanup(other.Close)
	b := setup(t, map[string]http.HandlerFunc{"/go": redirect(http.StatusFound, other.URL+"/x.pdf")}, download.Config{UserAgent: "oafetch/test"}, false, filestore.Options{})
	f, err := b.fetch(t, "/go", fulltext.KindPDF)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	_ = f.Abort()
	if ua := b.header("/go").Get("User-Agent"); ua != "oafetch/test" {
		t.Fatalf("User-Agent = %q", ua)
	}
	other.CloseClientConnections()
}

// guard is a RoundTripper standing in for the host policy: it refuses one
// host before any byte is sent and records every host asked for.
type guard struct {
	next    http.RoundTripper
	refuse  string
	mu      sync.Mutex
	visited []string
}

func (g *guard) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.visited = append(g.visited, r.URL.Host)
	g.mu.Unlock()
	if r.URL.Hostname() == g.refuse {
		return nil, fulltext.Errorf(fulltext.CodeSkipBlocklist, "hostpolicy: %s resolves to a private address", r.URL.Host)
	}
	return g.next.RoundTrip(r)
}

// TestEveryHopThroughTransport: each redirect hop is a separate request
// through the client's transport, so its guard sees (and may refuse) every
// hop, and its error keeps its code.
func TestEveryHopThroughTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(redirect(http.StatusFound, "http://metadata.internal/latest/"))
	t.Cleanup(srv.Close)
	st, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := &guard{next: srv.Client().Transport, refuse: "metadata.internal"}
	d := download.New(download.Config{}, &http.Client{Transport: g}, st)
	_, err = d.Fetch(t.Context(), lease, fulltext.Candidate{URL: srv.URL + "/x.pdf"}, download.Hooks{})
	if fulltext.CodeOf(err) != fulltext.CodeSkipBlocklist {
		t.Fatalf("Fetch = %v, want skip-blocklist", err)
	}
	if want := []string{srv.Listener.Addr().String(), "metadata.internal"}; !slices.Equal(g.visited, want) {
		t.Fatalf("transport saw %v, want %v", g.visited, want)
	}
}
