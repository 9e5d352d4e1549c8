package simweb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the simulated scholarly web: one handler virtual-hosted on the
// Host header, served over HTTP and over HTTPS with its own CA. Its methods
// are safe for concurrent use.
type Server struct {
	cfg   Config
	world *World
	// oaRecords are the OpenAlex objects by work index (nil: unknown).
	oaRecords []map[string]any
	ca        *authority
	replay    *replay

	handler http.Handler
	closing chan struct{}

	bombOnce sync.Once
	bomb     []byte

	mu        sync.Mutex
	requests  []Request
	logged    chan struct{} // closed and replaced at each log entry
	faults    []*faultState
	servers   []*http.Server
	httpAddr  string
	httpsAddr string
	closed    bool
	// oaCredits is what is left of today's OpenAlex list-call allowance.
	oaCredits int
}

// Request is one entry of the request log.
type Request struct {
	Host   string
	Method string
	// Path is the path and query as sent (the request URI).
	Path string
	// Header holds User-Agent, Range, Referer, Accept, If-None-Match,
	// If-Range, Authorization and X-Api-Key when the client sent them.
	Header http.Header
	At     time.Time
	// Done is when the handler returned: the response was written, or,
	// for a stalled or dripped response, the client closed the connection
	// (or the server closed).
	Done   time.Time
	Status int // 0 when the connection was dropped without a response
	// BytesSent counts the body bytes written through the handler (not
	// those a fault writes on a hijacked connection).
	BytesSent int64
	TLS       bool
}

// maxLogged bounds the request log of a long-running simulator: past it
// the older half is dropped.
const maxLogged = 200_000

var loggedHeaders = []string{"User-Agent", "Range", "Referer", "Accept", "If-None-Match", "If-Range", "Authorization", "X-Api-Key"}

// New builds the world, its handler and a fresh CA. It does not listen:
// call Start, or mount Handler on an httptest server.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	rp, err := loadManifest()
	if err != nil {
		return nil, err
	}
	world := NewWorld(cfg)
	recs, err := openAlexRecords(world)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, world: world, oaRecords: recs, ca: ca, replay: rp, closing: make(chan struct{}), oaCredits: cfg.OpenAlexCredits}
	s.SetFaults(cfg.Faults)
	s.handler = s.logRequests(s.injectFaults(http.HandlerFunc(s.dispatch)))
	return s, nil
}

// World returns the simulated world. It must not be modified.
func (s *Server) World() *World { return s.world }

// Handler returns the whole simulated web as one handler (request log and
// faults included), usable with httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on httpAddr (plain HTTP) and httpsAddr (TLS with the
// simulator's CA); either may be empty to skip it, and "127.0.0.1:0" picks
// a free port. It returns once both listen; serving goes on until Close or
// until ctx is done. It may be called once. HTTP/2 is off so that faults
// can hijack connections.
func (s *Server) Start(ctx context.Context, httpAddr, httpsAddr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("simweb: start: server closed")
	}
	if len(s.servers) > 0 {
		return errors.New("simweb: start: already started")
	}
	var lc net.ListenConfig
	var lns []net.Listener
	cleanup := func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	if httpAddr != "" {
		ln, err := lc.Listen(ctx, "tcp", httpAddr)
		if err != nil {
			return fmt.Errorf("simweb: listen http: %w", err)
		}
		lns = append(lns, ln)
		s.httpAddr = ln.Addr().String()
	}
	if httpsAddr != "" {
		ln, err := lc.Listen(ctx, "tcp", httpsAddr)
		if err != nil {
			cleanup()
			return fmt.Errorf("simweb: listen https: %w", err)
		}
		s.httpsAddr = ln.Addr().String()
		lns = append(lns, tls.NewListener(ln, &tls.Config{
			GetCertificate: s.ca.getCertificate,
			NextProtos:     []string{"http/1.1"},
			MinVersion:     tls.VersionTLS12,
		}))
	}
	for _, ln := range lns {
		srv := &http.Server{
			Handler:           s.handler,
			ReadHeaderTimeout: 10 * time.Second,
			TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
			// Handshake failures and resets are the clients' business.
			ErrorLog: log.New(io.Discard, "", 0),
		}
		s.servers = append(s.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
	context.AfterFunc(ctx, func() { _ = s.Close() })
	return nil
}

// HTTPAddr and HTTPSAddr return the listening addresses after Start.
func (s *Server) HTTPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

// HTTPSAddr returns the TLS listening address after Start.
func (s *Server) HTTPSAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpsAddr
}

// ConnectTo returns curl-style --connect-to rules that send every host's
// port 443 and port 80 to the listeners, e.g.
// [":443:127.0.0.1:41234", ":80:127.0.0.1:41235"].
func (s *Server) ConnectTo() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if s.httpsAddr != "" {
		out = append(out, ":443:"+s.httpsAddr)
	}
	if s.httpAddr != "" {
		out = append(out, ":80:"+s.httpAddr)
	}
	return out
}

// CAPEM returns the PEM of the CA certificate that signs every leaf.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.ca.pem...) }

// WriteCA writes CAPEM to path (mode 0644).
func (s *Server) WriteCA(path string) error {
	if err := os.WriteFile(path, s.ca.pem, 0o644); err != nil {
		return fmt.Errorf("simweb: write ca: %w", err)
	}
	return nil
}

// Client returns an HTTP client that reaches the simulator whatever the
// URL's host (port 443 → the TLS listener, anything else → the plain one)
// and trusts only the simulator's CA. It follows redirects like any
// http.Client; set CheckRedirect to change that. Call after Start.
func (s *Server) Client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	httpAddr, httpsAddr := s.HTTPAddr(), s.HTTPSAddr()
	var d net.Dialer
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				if port == "443" {
					return d.DialContext(ctx, network, httpsAddr)
				}
				return d.DialContext(ctx, network, httpAddr)
			},
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableCompression:  true,
			MaxIdleConnsPerHost: 4,
		},
	}
}

// Requests returns a copy of the request log, oldest first (at most the
// last 200,000 requests).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WaitRequest returns the first logged request for which match is true,
// waiting for it to be logged (a request is logged when its handler
// returns: for a stalled response, when the client closed the connection)
// until ctx ends.
func (s *Server) WaitRequest(ctx context.Context, match func(Request) bool) (Request, error) {
	seen := 0
	for {
		s.mu.Lock()
		if seen > len(s.requests) { // ResetRequests
			seen = 0
		}
		for _, r := range s.requests[seen:] {
			if match(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		seen = len(s.requests)
		if s.logged == nil {
			s.logged = make(chan struct{})
		}
		ch := s.logged
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("simweb: wait request: %w", ctx.Err())
		}
	}
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Done is closed when the server closes (Close, or Start's ctx done).
func (s *Server) Done() <-chan struct{} { return s.closing }

// Close stops the listeners, drops open connections and releases stalled
// responses. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.servers
	s.mu.Unlock()
	close(s.closing)
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}

func (s *Server) now() time.Time { return s.cfg.Clock.Now() }

// logRequests records every request with its status and body bytes.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &countingWriter{ResponseWriter: w}
		h := http.Header{}
		for _, k := range loggedHeaders {
			if v := r.Header.Values(k); len(v) > 0 {
				h[k] = append([]string(nil), v...)
			}
		}
		at := s.now()
		defer func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.requests) >= maxLogged {
				s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxLogged/2:]...)
			}
			if s.logged != nil {
				close(s.logged)
				s.logged = nil
			}
			s.requests = append(s.requests, Request{
				Host: hostOf(r), Method: r.Method, Path: cmpOr(r.RequestURI, r.URL.RequestURI()), Header: h, At: at, Done: s.now(),
				Status: rw.status, BytesSent: rw.n, TLS: r.TLS != nil,
			})
		}()
		next.ServeHTTP(rw, r)
	})
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// hostOf returns the request's host name, lower-cased, without port.
func hostOf(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(h)
}

func itoa(n int) string { return strconv.Itoa(n) }
