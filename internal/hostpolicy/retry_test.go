package hostpolicy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		want     time.Duration
		ok       bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"zero", "0", 0, true},
		{"spaces", "  5 ", 5 * time.Second, true},
		{"imf date", "Sat, 28 Nov 2026 20:00:30 GMT", 30 * time.Second, true},
		{"rfc850 date", "Saturday, 28-Nov-26 20:01:00 GMT", time.Minute, true},
		{"asctime date", "Sat Nov 28 20:00:10 2026", 10 * time.Second, true},
		{"past date", "Sat, 28 Nov 2026 19:00:00 GMT", 0, true},
		{"huge seconds", "99999999999999999999999", maxRetryAfter, true},
		{"far date", "Fri, 31 Dec 9999 23:59:59 GMT", maxRetryAfter, true},
		{"empty", "", 0, false},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"junk", "soon", 0, false},
		{"digits then junk", "10s", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "", "-1", "Sat, 28 Nov 2026 20:00:30 GMT", "Sat Nov 28 20:00:10 2026", "1e9", "99999999999999999999", " 7 "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %s out of range", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %s with ok=false", s, d)
		}
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	zero := func() float64 { return 0 }
	one := func() float64 { return 0.999999 }
	tests := []struct {
		n        int
		rnd      func() float64
		min, max time.Duration
	}{
		{0, zero, 50 * time.Millisecond, 50 * time.Millisecond},
		{0, one, 99 * time.Millisecond, 100 * time.Millisecond},
		{1, zero, 100 * time.Millisecond, 100 * time.Millisecond},
		{3, zero, 400 * time.Millisecond, 400 * time.Millisecond},
		{10, zero, 500 * time.Millisecond, 500 * time.Millisecond},
		{62, one, 999 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		if got := backoff(tt.n, 100*time.Millisecond, time.Second, tt.rnd); got < tt.min || got > tt.max {
			t.Errorf("backoff(%d) = %s, want in [%s, %s]", tt.n, got, tt.min, tt.max)
		}
	}
}

// fastRetries is a policy for retry tests: unpaced, tiny backoff.
func fastRetries(key string, maxRetries int) PolicyConfig {
	return PolicyConfig{
		Hosts:       map[string]HostConfig{key: {Rate: rate.Inf, Concurrency: 4}},
		MaxRetries:  maxRetries,
		BackoffBase: time.Millisecond,
		BackoffMax:  2 * time.Millisecond,
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	status := func(codes ...int) func(int, http.ResponseWriter, *http.Request) {
		return func(n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(codes[min(n, len(codes)-1)])
		}
	}
	tests := []struct {
		name     string
		method   string
		answer   func(int, http.ResponseWriter, *http.Request)
		wantHits int
		wantCode int
		wantErr  fulltext.Code
	}{
		{name: "503 retried to the limit", answer: status(503), wantHits: 4, wantCode: 503},
		{name: "500 then ok", answer: status(500, 502, 200), wantHits: 3, wantCode: 200},
		{name: "429 without retry-after", answer: status(429, 200), wantHits: 2, wantCode: 200},
		{name: "404 never retried", answer: status(404), wantHits: 1, wantCode: 404},
		{name: "403 never retried", answer: status(403), wantHits: 1, wantCode: 403},
		{name: "501 is a verdict", answer: status(501), wantHits: 1, wantCode: 501},
		{name: "post not retried", method: http.MethodPost, answer: status(500), wantHits: 1, wantCode: 500},
		{name: "head retried", method: http.MethodHead, answer: status(502, 200), wantHits: 2, wantCode: 200},
		{name: "reset retried", answer: func(n int, w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, wantHits: 4, wantErr: fulltext.CodeNetworkError},
		{name: "reset then ok", answer: func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
				return
			}
			io.WriteString(w, "ok")
		}, wantHits: 2, wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newRecServer(t, tt.answer)
			var retries atomic.Int32
			cfg := fastRetries(srv.key, 3)
			cfg.Observer = &retryCounter{n: &retries}
			p := NewPolicy(cfg)
			c := policyClient(t, p)
			req, _ := http.NewRequestWithContext(t.Context(), cmpStr(tt.method, http.MethodGet), srv.URL+"/x", strings.NewReader(""))
			if tt.method == "" || tt.method == http.MethodHead {
				req.Body, req.GetBody, req.ContentLength = nil, nil, 0
			}
			resp, err := c.Do(req)
			if tt.wantErr != "" {
				if got := fulltext.CodeOf(err); got != tt.wantErr {
					t.Fatalf("err %v (code %q), want code %q", err, got, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.wantCode {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
				}
			}
			if n := srv.count(); n != tt.wantHits {
				t.Errorf("server saw %d requests, want %d", n, tt.wantHits)
			}
			if got := int(retries.Load()); got != tt.wantHits-1 {
				t.Errorf("observer saw %d retries, want %d", got, tt.wantHits-1)
			}
			if st := stateOf(t, p, srv.key); st.InFlight != 0 {
				t.Errorf("in flight %d after the answer, want 0 (retried bodies closed)", st.InFlight)
			}
		})
	}
}

func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type retryCounter struct {
	nopObserver
	n *atomic.Int32
}

func (r *retryCounter) Retry(string, int) { r.n.Add(1) }

func TestNoRetryOnTLSError(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	var handshakes atomic.Int32
	_, port := newTLSServerWith(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), func(srv *httptest.Server) {
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				handshakes.Add(1)
			}
		}
	}, "api.openalex.org")
	ct, _ := ParseConnectTo(":443:127.0.0.1:" + port)
	safety := &loopbackOnly{}
	t.Cleanup(func() { safety.checkNoLeak(t) })
	d := NewDialer(DialerConfig{ConnectTo: []ConnectTo{ct}, Resolver: newFakeResolver(nil), Control: safety.Control})
	tr, err := NewTransport(TransportConfig{Dialer: d}) // no CA file: the server is untrusted
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	p := NewPolicy(fastRetries("api.openalex.org", 3))
	c := &http.Client{Transport: p.Wrap(tr)}
	_, err = get(t, c, t.Context(), "https://api.openalex.org/works")
	if err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	if got := fulltext.CodeOf(err); got != fulltext.CodeNetworkError {
		t.Errorf("code %q, want network-error", got)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (no retry after a TLS failure)", n)
	}
}

func TestRetryAfterSecondsHonoured(t *testing.T) {
	t.Parallel()
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	p := NewPolicy(fastRetries(srv.key, 3))
	c := policyClient(t, p)
	if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 200 {
		t.Fatalf("got %d, %v; want 200 after the wait", code, err)
	}
	// Another request to the same host right after is also fine (the hold
	// has passed); both follow the 429 by at least a second.
	if code, err := get(t, c, t.Context(), srv.URL+"/b"); err != nil || code != 200 {
		t.Fatalf("got %d, %v", code, err)
	}
	ts := srv.times()
	if len(ts) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(ts))
	}
	if gap := ts[1].Sub(ts[0]); gap < time.Second {
		t.Errorf("request %s after a 429 with Retry-After: 1, want ≥ 1s", gap)
	}
	if st := stateOf(t, p, srv.key); st.LastRetryAfter != time.Second {
		t.Errorf("LastRetryAfter %s, want 1s", st.LastRetryAfter)
	}
}

func TestRetryAfterDateHonouredAcrossRequests(t *testing.T) {
	t.Parallel()
	var until atomic.Pointer[time.Time]
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			u := time.Now().Add(2 * time.Second).Truncate(time.Second)
			until.Store(&u)
			w.Header().Set("Retry-After", u.UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	p := NewPolicy(fastRetries(srv.key, -1))
	c := policyClient(t, p)
	// No retries: the 503 comes back, but the host is held; the next
	// request (a different caller) must wait for the date.
	if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 503 {
		t.Fatalf("got %d, %v; want 503", code, err)
	}
	if code, err := get(t, c, t.Context(), srv.URL+"/b"); err != nil || code != 200 {
		t.Fatalf("got %d, %v; want 200", code, err)
	}
	ts := srv.times()
	if len(ts) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(ts))
	}
	if u := *until.Load(); ts[1].Before(u) {
		t.Errorf("second request at %s, before the Retry-After date %s", ts[1].Format(time.StampMilli), u.Format(time.StampMilli))
	}
}

func TestRetryAfterBeyondCapPausesHost(t *testing.T) {
	t.Parallel()
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	cfg := fastRetries(srv.key, 3)
	cfg.RetryAfterCap = time.Minute
	p := NewPolicy(cfg)
	c := policyClient(t, p)
	for i := range 2 {
		_, err := get(t, c, t.Context(), srv.URL+"/a")
		var fe *fulltext.Error
		if !errors.As(err, &fe) || fe.Code != fulltext.CodeRateLimited {
			t.Fatalf("request %d: %v, want rate-limited", i, err)
		}
		if fe.RetryAfter < 59*time.Minute || fe.RetryAfter > time.Hour {
			t.Errorf("request %d: RetryAfter %s, want about 1h", i, fe.RetryAfter)
		}
	}
	if n := srv.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1 (paused host fails fast)", n)
	}
	st := stateOf(t, p, srv.key)
	if st.PausedUntil.IsZero() || st.LastRetryAfter != time.Hour {
		t.Errorf("state %+v, want paused with LastRetryAfter 1h", st)
	}
	p.Resume(srv.key)
	if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 200 {
		t.Fatalf("after Resume: %d, %v", code, err)
	}
}

func TestOperatorPause(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	srv := newRecServer(t, nil)
	cfg := fastRetries(srv.key, -1)
	cfg.Clock = clock
	p := NewPolicy(cfg)
	c := policyClient(t, p)
	p.Pause(srv.key, clock.Now().Add(10*time.Minute))
	_, err := get(t, c, t.Context(), srv.URL+"/a")
	var fe *fulltext.Error
	if !errors.As(err, &fe) || fe.Code != fulltext.CodeRateLimited || fe.RetryAfter != 10*time.Minute {
		t.Fatalf("paused: %v, want rate-limited with RetryAfter 10m", err)
	}
	clock.Advance(10 * time.Minute)
	if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 200 {
		t.Fatalf("after the pause: %d, %v", code, err)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestTimeoutRetried(t *testing.T) {
	t.Parallel()
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			<-r.Context().Done() // never answer; the client gives up
			return
		}
		io.WriteString(w, "ok")
	})
	safety := &loopbackOnly{}
	t.Cleanup(func() { safety.checkNoLeak(t) })
	d := NewDialer(DialerConfig{AllowPrivate: true, Resolver: newFakeResolver(nil), Control: safety.Control})
	tr, err := NewTransport(TransportConfig{Dialer: d, ResponseHeaderTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	for _, tt := range []struct {
		name       string
		maxRetries int
		wantCode   int
		wantErr    fulltext.Code
	}{
		{"gives up as timeout", -1, 0, fulltext.CodeTimeout},
		{"retried to success", 3, 200, ""},
	} {
		p := NewPolicy(fastRetries(srv.key, tt.maxRetries))
		c := &http.Client{Transport: p.Wrap(tr)}
		code, err := get(t, c, t.Context(), srv.URL+"/slow")
		if code != tt.wantCode || fulltext.CodeOf(err) != tt.wantErr {
			t.Fatalf("%s: %d, %v; want %d, code %q", tt.name, code, err, tt.wantCode, tt.wantErr)
		}
	}
	if n := srv.count(); n != 3 {
		t.Errorf("server saw %d requests, want 3 (1 + 1 timed out, retried, then ok)", n)
	}
}
