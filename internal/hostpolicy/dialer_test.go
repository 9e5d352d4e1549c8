package hostpolicy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestBlockedReason(t *testing.T) {
	t.Parallel()
	blocked := []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.254",
		"192.168.1.1", "169.254.169.254", "169.254.1.1", "100.64.0.1", "100.127.255.254",
		"0.0.0.0", "::", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1",
		"::127.0.0.1", "2002:7f00:1::1", "2002:a00:1::",
	}
	for _, s := range blocked {
		if reason, ok := BlockedReason(netip.MustParseAddr(s)); !ok || reason == "" {
			t.Errorf("BlockedReason(%s) = %q, %v; want blocked", s, reason, ok)
		}
	}
	allowed := []string{
		"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "169.255.0.1", "11.0.0.1",
		"2606:4700::6810:84e5", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range allowed {
		if reason, ok := BlockedReason(netip.MustParseAddr(s)); ok {
			t.Errorf("BlockedReason(%s) = %q, blocked; want allowed", s, reason)
		}
	}
	if r, _ := BlockedReason(netip.MustParseAddr("169.254.169.254")); !strings.Contains(r, "metadata") {
		t.Errorf("reason for 169.254.169.254 = %q, want it to name cloud metadata", r)
	}
}

type dialSetup struct {
	srv      *httptest.Server
	port     string
	resolver *fakeResolver
	safety   *loopbackOnly
	hits     *counter
}

type counter struct{ ch chan struct{} }

func (c *counter) n() int { return len(c.ch) }

func setupDial(t *testing.T) *dialSetup {
	t.Helper()
	hits := &counter{ch: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.ch <- struct{}{}
		io.WriteString(w, "host="+r.Host)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	s := &dialSetup{srv: srv, port: port, hits: hits, safety: &loopbackOnly{}}
	s.resolver = newFakeResolver(map[string][]string{
		"public.example":   {"127.0.0.1"}, // only reachable with AllowPrivate
		"evil.example":     {"93.184.216.34", "10.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"mapped.example":   {"::ffff:127.0.0.1"},
		"nat64.example":    {"64:ff9b::a9fe:a9fe"},
		"cgnat.example":    {"100.64.0.1"},
		"ula.example":      {"fd00::1"},
		"far.example":      {"10.0.0.1"},
	})
	t.Cleanup(func() { s.safety.checkNoLeak(t) })
	return s
}

func (s *dialSetup) client(cfg DialerConfig) *http.Client {
	cfg.Resolver = s.resolver
	cfg.Control = s.safety.Control
	tr := &http.Transport{DialContext: NewDialer(cfg).DialContext}
	return &http.Client{Transport: tr}
}

func TestDialerBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, url, reason string }{
		{"loopback literal", "http://127.0.0.1:%s/", "loopback"},
		{"loopback v6 literal", "http://[::1]:%s/", "loopback"},
		{"v4-mapped literal", "http://[::ffff:127.0.0.1]:%s/", "v4-mapped loopback"},
		{"metadata literal", "http://169.254.169.254:%s/latest/meta-data/", "metadata"},
		{"rfc1918 literal", "http://10.0.0.1:%s/", "RFC 1918"},
		{"cgnat literal", "http://100.64.0.1:%s/", "CGNAT"},
		{"name to private", "http://public.example:%s/", "loopback"},
		{"every address checked", "http://evil.example:%s/", "RFC 1918"},
		{"name to metadata", "http://metadata.example:%s/", "metadata"},
		{"name to mapped", "http://mapped.example:%s/", "v4-mapped loopback"},
		{"name to nat64", "http://nat64.example:%s/", "NAT64"},
		{"name to cgnat", "http://cgnat.example:%s/", "CGNAT"},
		{"name to ula", "http://ula.example:%s/", "unique-local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := setupDial(t)
			// A connect-to for any host never rewrites IP literals.
			ct, err := ParseConnectTo("only.example::127.0.0.1:" + s.port)
			if err != nil {
				t.Fatal(err)
			}
			c := s.client(DialerConfig{ConnectTo: []ConnectTo{ct}})
			u := strings.Replace(tt.url, "%s", s.port, 1)
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded, want blocked", u)
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("GET %s: %v, want *BlockedError", u, err)
			}
			if !strings.Contains(be.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", be.Reason, tt.reason)
			}
			if got := fulltext.CodeOf(err); got != fulltext.CodeSkipBlocklist {
				t.Errorf("CodeOf = %q, want %q", got, fulltext.CodeSkipBlocklist)
			}
			if dials, _ := s.safety.counts(); dials != 0 || s.hits.n() != 0 {
				t.Errorf("blocked request reached the socket layer: %d dials, %d server hits", dials, s.hits.n())
			}
		})
	}
}

func TestDialerConnectTo(t *testing.T) {
	t.Parallel()
	s := setupDial(t)
	ct, err := ParseConnectTo("api.openalex.org:80:127.0.0.1:" + s.port)
	if err != nil {
		t.Fatal(err)
	}
	c := s.client(DialerConfig{ConnectTo: []ConnectTo{ct}})
	resp, err := c.Get("http://api.openalex.org/works/W1")
	if err != nil {
		t.Fatalf("GET through connect-to: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "host=api.openalex.org" {
		t.Errorf("server saw %q, want the real Host header", body)
	}
	if n := s.resolver.count("api.openalex.org"); n != 0 {
		t.Errorf("matched host looked up %d times, want 0", n)
	}
	// An unmatched host is still guarded.
	_, err = c.Get("http://far.example:" + s.port + "/")
	if fulltext.CodeOf(err) != fulltext.CodeSkipBlocklist {
		t.Errorf("unmatched host: %v, want skip-blocklist", err)
	}
}

func TestDialerAllowPrivateDialsCheckedAddressOnce(t *testing.T) {
	t.Parallel()
	s := setupDial(t)
	c := s.client(DialerConfig{AllowPrivate: true})
	resp, err := c.Get("http://public.example:" + s.port + "/")
	if err != nil {
		t.Fatalf("GET with AllowPrivate: %v", err)
	}
	resp.Body.Close()
	if n := s.resolver.count("public.example"); n != 1 {
		t.Errorf("resolved %d times, want exactly 1 (no second lookup)", n)
	}
	if dials, _ := s.safety.counts(); dials != 1 {
		t.Errorf("dials = %d, want 1", dials)
	}
}

func TestSafetyHookRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	// With the guard off, only the test hook stands between the dial and
	// the network: prove it refuses before connecting.
	safety := &loopbackOnly{}
	d := NewDialer(DialerConfig{AllowPrivate: true, Resolver: newFakeResolver(nil), Control: safety.Control})
	_, err := d.DialContext(t.Context(), "tcp", "10.0.0.1:80")
	if err == nil || !strings.Contains(err.Error(), "test safety") {
		t.Fatalf("dial 10.0.0.1 = %v, want refusal by the test hook", err)
	}
	if _, refused := safety.counts(); len(refused) != 1 || refused[0] != "10.0.0.1:80" {
		t.Fatalf("refused = %v, want [10.0.0.1:80]", refused)
	}
}

func TestDialerErrors(t *testing.T) {
	t.Parallel()
	s := setupDial(t)
	d := NewDialer(DialerConfig{Resolver: s.resolver, Control: s.safety.Control})
	if _, err := d.DialContext(t.Context(), "tcp", "nohost.example:80"); err == nil || !strings.Contains(err.Error(), "nohost.example") {
		t.Errorf("unknown host: %v, want an error naming it", err)
	}
	if _, err := d.DialContext(t.Context(), "tcp", "missing-port"); err == nil {
		t.Error("bad address: want error")
	}
	if _, err := d.DialContext(t.Context(), "tcp6", "93.184.216.34:80"); err == nil {
		t.Error("tcp6 to an IPv4 literal: want error")
	}
}

func TestDialerGuardsEveryRedirectHop(t *testing.T) {
	t.Parallel()
	s := setupDial(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	_, rport, _ := net.SplitHostPort(redirector.Listener.Addr().String())
	ct, err := ParseConnectTo("publisher.example:80:127.0.0.1:" + rport)
	if err != nil {
		t.Fatal(err)
	}
	c := s.client(DialerConfig{ConnectTo: []ConnectTo{ct}})
	_, err = c.Get("http://publisher.example/article/1")
	var be *BlockedError
	if !errors.As(err, &be) || be.IP.String() != "169.254.169.254" {
		t.Fatalf("redirect to the metadata address: %v, want *BlockedError for 169.254.169.254", err)
	}
}
