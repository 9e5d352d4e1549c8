package hostpolicy

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func robotsServer(t *testing.T, status int, body string) *recServer {
	t.Helper()
	return newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
		io.WriteString(w, "page")
	})
}

func countPath(paths []string, p string) int {
	n := 0
	for _, x := range paths {
		if x == p {
			n++
		}
	}
	return n
}

func TestRobots(t *testing.T) {
	t.Parallel()
	const rules = "User-agent: *\nDisallow: /\n\nUser-agent: oafetch\nDisallow: /private\nAllow: /private/ok\n"
	tests := []struct {
		name    string
		status  int
		body    string
		path    string
		allowed bool
	}{
		{"rules allow", 200, rules, "/article/1", true},
		{"rules disallow", 200, rules, "/private/x.pdf", false},
		{"longest match allows", 200, rules, "/private/ok/x.pdf", true},
		{"star group not ours", 200, "User-agent: *\nDisallow: /\n", "/article/1", false},
		{"other bot only", 200, "User-agent: otherbot\nDisallow: /\n", "/article/1", true},
		{"404 allows all", 404, "", "/private/x", true},
		{"403 allows all", 403, "", "/private/x", true},
		{"500 disallows all", 500, "", "/article/1", false},
		{"503 disallows all", 503, "", "/article/1", false},
		{"429 disallows all", 429, "", "/article/1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := robotsServer(t, tt.status, tt.body)
			p := NewPolicy(fastRetries(srv.key, -1))
			c := policyClient(t, p)
			ctx := WithRobots(t.Context())
			for range 2 {
				code, err := get(t, c, ctx, srv.URL+tt.path)
				if tt.allowed && (err != nil || code != 200) {
					t.Fatalf("GET %s: %d, %v; want allowed", tt.path, code, err)
				}
				if !tt.allowed && fulltext.CodeOf(err) != fulltext.CodeSkipRobots {
					t.Fatalf("GET %s: %d, %v; want skip-robots", tt.path, code, err)
				}
			}
			paths := srv.pathList()
			if n := countPath(paths, "/robots.txt"); n != 1 {
				t.Errorf("robots.txt fetched %d times, want once", n)
			}
			if n, want := countPath(paths, tt.path), map[bool]int{true: 2, false: 0}[tt.allowed]; n != want {
				t.Errorf("page fetched %d times, want %d", n, want)
			}
		})
	}
}

func TestRobotsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	srv := robotsServer(t, 200, "User-agent: *\nDisallow: /\n")
	p := NewPolicy(fastRetries(srv.key, -1))
	c := policyClient(t, p)
	if code, err := get(t, c, t.Context(), srv.URL+"/api/works"); err != nil || code != 200 {
		t.Fatalf("API call without WithRobots: %d, %v", code, err)
	}
	if paths := srv.pathList(); !slices.Equal(paths, []string{"/api/works"}) {
		t.Errorf("server saw %v, want only the API call", paths)
	}
}

func TestRobotsTTLAndUserAgent(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	uas := make(chan string, 4)
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			uas <- r.UserAgent()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "page")
	})
	cfg := fastRetries(srv.key, -1)
	cfg.Clock = clock
	cfg.RobotsTTL = time.Hour
	p := NewPolicy(cfg)
	c := policyClient(t, p)
	ctx := WithRobots(t.Context())
	if _, err := get(t, c, ctx, srv.URL+"/a"); fulltext.CodeOf(err) != fulltext.CodeSkipRobots {
		t.Fatalf("robots 503: %v, want skip-robots", err)
	}
	if st := stateOf(t, p, srv.key); st.Robots != "disallow-all" {
		t.Errorf("Hosts() robots %q, want disallow-all", st.Robots)
	}
	clock.Advance(59 * time.Minute)
	if _, err := get(t, c, ctx, srv.URL+"/a"); fulltext.CodeOf(err) != fulltext.CodeSkipRobots {
		t.Fatalf("within TTL: %v, want skip-robots from the cache", err)
	}
	srv.setAnswer(nil) // robots.txt now a 200 "ok" body: allow all
	clock.Advance(2 * time.Minute)
	if code, err := get(t, c, ctx, srv.URL+"/a"); err != nil || code != 200 {
		t.Fatalf("after the TTL: %d, %v; want re-fetched and allowed", code, err)
	}
	close(uas)
	var got []string
	for ua := range uas {
		got = append(got, ua)
	}
	if len(got) != 1 || got[0] != "oafetch/test" {
		t.Errorf("robots.txt fetches saw User-Agents %v, want one with oafetch/test", got)
	}
	if n := countPath(srv.pathList(), "/robots.txt"); n != 2 {
		t.Errorf("robots.txt fetched %d times, want 2 (once per TTL)", n)
	}
}

func TestRobotsCancelled(t *testing.T) {
	t.Parallel()
	srv := robotsServer(t, 200, "")
	p := NewPolicy(fastRetries(srv.key, -1))
	c := policyClient(t, p)
	ctx, cancel := context.WithCancel(WithRobots(t.Context()))
	cancel()
	if _, err := get(t, c, ctx, srv.URL+"/a"); err == nil {
		t.Fatal("cancelled request succeeded")
	}
	if st := stateOf(t, p, srv.key); st.Robots != "" {
		t.Errorf("a cancelled fetch cached robots verdict %q", st.Robots)
	}
}

func TestRobotsCrawlDelaySlowsHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		configured rate.Limit
		body       string
		want       rate.Limit
	}{
		{"slower than configured", rate.Inf, "User-agent: oafetch\nCrawl-delay: 2\nDisallow: /x\n", rate.Every(2 * time.Second)},
		{"capped", rate.Inf, "User-agent: *\nCrawl-delay: 86400\n", rate.Every(maxCrawlDelay)},
		{"never faster", 20, "User-agent: *\nCrawl-delay: 0.01\n", 20},
		{"other group ignored", rate.Inf, "User-agent: otherbot\nCrawl-delay: 9\n", rate.Inf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := robotsServer(t, 200, tt.body)
			cfg := fastRetries(srv.key, -1)
			cfg.Hosts[srv.key] = HostConfig{Rate: tt.configured, Concurrency: 1}
			p := NewPolicy(cfg)
			c := policyClient(t, p)
			if _, err := get(t, c, WithRobots(t.Context()), srv.URL+"/a"); err != nil {
				t.Fatal(err)
			}
			if st := stateOf(t, p, srv.key); st.Rate != tt.want {
				t.Errorf("rate %v, want %v", st.Rate, tt.want)
			}
		})
	}
}

// TestRobotsOfABlockedAddressIsBlocklist: when the guard refuses the
// robots.txt request, the page request is skip-blocklist (naming the
// address), not skip-robots.
func TestRobotsOfABlockedAddressIsBlocklist(t *testing.T) {
	t.Parallel()
	safety := &loopbackOnly{}
	d := NewDialer(DialerConfig{Resolver: newFakeResolver(nil), Control: safety.Control})
	tr, err := NewTransport(TransportConfig{Dialer: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	p := NewPolicy(PolicyConfig{Default: HostConfig{Rate: rate.Inf, Burst: 1, Concurrency: 1}})
	c := &http.Client{Transport: p.Wrap(tr)}
	for _, u := range []string{"http://127.0.0.1:9/admin/file.pdf", "http://169.254.169.254/latest/meta-data/"} {
		_, err := get(t, c, WithRobots(t.Context()), u)
		if fulltext.CodeOf(err) != fulltext.CodeSkipBlocklist {
			t.Errorf("GET %s: %v, want skip-blocklist", u, err)
		}
	}
	if dials, refused := safety.counts(); dials != 0 || len(refused) != 0 {
		t.Errorf("dials %d, refused by the test hook %v: the guard should have refused first", dials, refused)
	}
}
