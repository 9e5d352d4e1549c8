package hostpolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type transportSetup struct {
	ca     *testCA
	port   string
	safety *loopbackOnly
	ct     []ConnectTo
}

func setupTransport(t *testing.T) *transportSetup {
	t.Helper()
	ca := newTestCA(t)
	_, port := newTLSServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-UA", r.UserAgent())
		io.WriteString(w, r.Host+" "+r.TLS.ServerName)
	}), "api.openalex.org")
	s := &transportSetup{ca: ca, port: port, safety: &loopbackOnly{}}
	ct, err := ParseConnectTo(":443:127.0.0.1:" + port)
	if err != nil {
		t.Fatal(err)
	}
	s.ct = []ConnectTo{ct}
	t.Cleanup(func() { s.safety.checkNoLeak(t) })
	return s
}

func (s *transportSetup) transport(t *testing.T, caFile string) *http.Transport {
	t.Helper()
	d := NewDialer(DialerConfig{ConnectTo: s.ct, Resolver: newFakeResolver(nil), Control: s.safety.Control})
	tr, err := NewTransport(TransportConfig{Dialer: d, CAFile: caFile, MaxIdleConnsPerHost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func TestTransportTLSThroughConnectTo(t *testing.T) {
	t.Parallel()
	s := setupTransport(t)
	c := &http.Client{Transport: UserAgent(s.transport(t, s.ca.file), DefaultUserAgent("1.2.3", "ops@example.org"))}
	resp, err := c.Get("https://api.openalex.org/works/W2741809807")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), "api.openalex.org api.openalex.org"; got != want {
		t.Errorf("server saw Host and SNI %q, want %q", got, want)
	}
	if got, want := resp.Header.Get("X-Seen-UA"), "oafetch/1.2.3 (+https://github.com/oafetch/oafetch; mailto:ops@example.org)"; got != want {
		t.Errorf("User-Agent = %q, want %q", got, want)
	}
}

func TestTransportVerifiesTLS(t *testing.T) {
	t.Parallel()
	s := setupTransport(t)
	tests := []struct {
		name   string
		caFile string
		url    string
		want   any
	}{
		{"unknown authority without ca file", "", "https://api.openalex.org/", &x509.UnknownAuthorityError{}},
		{"name mismatch", s.ca.file, "https://api.crossref.org/", &x509.HostnameError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: s.transport(t, tt.caFile)}
			resp, err := c.Get(tt.url)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded, want a TLS verification error", tt.url)
			}
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("GET %s: %v, want *tls.CertificateVerificationError", tt.url, err)
			}
			switch tt.want.(type) {
			case *x509.UnknownAuthorityError:
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ua) {
					t.Errorf("error %v, want x509.UnknownAuthorityError", err)
				}
			case *x509.HostnameError:
				var he x509.HostnameError
				if !errors.As(err, &he) {
					t.Errorf("error %v, want x509.HostnameError", err)
				}
			}
		})
	}
}

func TestTransportCAFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), garbage} {
		_, err := NewTransport(TransportConfig{CAFile: f})
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("NewTransport(CAFile %s) = %v, want an error naming the file", f, err)
		}
	}
}

func TestTransportDefaults(t *testing.T) {
	t.Parallel()
	tr, err := NewTransport(TransportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Proxy != nil || tr.TLSClientConfig.InsecureSkipVerify || tr.MaxIdleConnsPerHost != 8 || tr.MaxResponseHeaderBytes != 64<<10 {
		t.Errorf("defaults: proxy set %v, insecure %v, idle/host %d, header bytes %d",
			tr.Proxy != nil, tr.TLSClientConfig.InsecureSkipVerify, tr.MaxIdleConnsPerHost, tr.MaxResponseHeaderBytes)
	}
}

func TestUserAgentKeepsExplicitHeader(t *testing.T) {
	t.Parallel()
	var seen string
	rt := UserAgent(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.UserAgent()
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}), "oafetch/x")
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://a.example/", nil)
	if _, err := rt.RoundTrip(req); err != nil || seen != "oafetch/x" {
		t.Fatalf("UA %q, %v; want oafetch/x", seen, err)
	}
	if req.Header.Get("User-Agent") != "" {
		t.Error("UserAgent modified the caller's request")
	}
	req.Header.Set("User-Agent", "custom")
	if _, err := rt.RoundTrip(req); err != nil || seen != "custom" {
		t.Fatalf("UA %q, %v; want the explicit custom", seen, err)
	}
	if got := DefaultUserAgent("dev", ""); got != "oafetch/dev (+https://github.com/oafetch/oafetch)" {
		t.Errorf("DefaultUserAgent without mailto = %q", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
