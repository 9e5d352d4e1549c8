package hostpolicy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// recServer is a loopback server that records the arrival time of every
// request and the peak number of requests in flight; its answers come
// from a handler chosen by the test.
type recServer struct {
	*httptest.Server
	key string // the policy's host key for this server

	mu       sync.Mutex
	arrivals []time.Time
	paths    []string
	inFlight int
	peak     int
	answer   func(n int, w http.ResponseWriter, r *http.Request) // n counts from 0
}

func newRecServer(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *recServer {
	t.Helper()
	s := &recServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.arrivals)
		s.arrivals = append(s.arrivals, time.Now())
		s.paths = append(s.paths, r.URL.Path)
		s.inFlight++
		s.peak = max(s.peak, s.inFlight)
		answer := s.answer
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if answer != nil {
			answer(n, w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(s.Close)
	s.key = s.Listener.Addr().String()
	return s
}

func (s *recServer) setAnswer(a func(n int, w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	s.answer = a
	s.mu.Unlock()
}

func (s *recServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

func (s *recServer) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.arrivals...)
}

func (s *recServer) pathList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// policyClient returns a client whose transport is the package's own stack
// (guarded dialer allowing loopback, test safety hook) wrapped by p.
func policyClient(t *testing.T, p *Policy) *http.Client {
	t.Helper()
	safety := &loopbackOnly{}
	t.Cleanup(func() { safety.checkNoLeak(t) })
	d := NewDialer(DialerConfig{AllowPrivate: true, Resolver: newFakeResolver(nil), Control: safety.Control})
	tr, err := NewTransport(TransportConfig{Dialer: d, MaxIdleConnsPerHost: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: UserAgent(p.Wrap(tr), "oafetch/test")}
}

func get(t *testing.T, c *http.Client, ctx context.Context, url string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// stateOf returns the Hosts() entry for key.
func stateOf(t *testing.T, p *Policy, key string) HostState {
	t.Helper()
	for _, s := range p.Hosts() {
		if s.Host == key {
			return s
		}
	}
	t.Fatalf("host %s not in Hosts()", key)
	return HostState{}
}

// TestPacingAtServer is not parallel: arrival times are measured at the
// server, and scheduling jitter from other tests on a loaded machine would
// compress them.
func TestPacingAtServer(t *testing.T) {
	const (
		r     = 20
		burst = 1
		n     = 50
	)
	srv := newRecServer(t, nil)
	p := NewPolicy(PolicyConfig{Hosts: map[string]HostConfig{srv.key: {Rate: r, Burst: burst, Concurrency: 4}}})
	c := policyClient(t, p)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			code, err := get(t, c, t.Context(), fmt.Sprintf("%s/w/%d", srv.URL, i))
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := srv.times()
	if len(ts) != n {
		t.Fatalf("server saw %d requests, want %d", len(ts), n)
	}
	limit := int(r*1.05) + burst
	for i := range ts {
		in := 0
		for j := range ts {
			if !ts[j].Before(ts[i]) && ts[j].Sub(ts[i]) < time.Second {
				in++
			}
		}
		if in > limit {
			t.Fatalf("%d requests in the second after request %d, limit %d", in, i, limit)
		}
	}
	first, last := ts[0], ts[0]
	for _, x := range ts {
		if x.Before(first) {
			first = x
		}
		if x.After(last) {
			last = x
		}
	}
	if span, want := last.Sub(first), time.Duration(float64(n-burst)/r*0.95*float64(time.Second)); span < want {
		t.Errorf("%d requests spread over %s, want at least %s", n, span, want)
	}
}

func TestConcurrencyCeiling(t *testing.T) {
	t.Parallel()
	const (
		ceiling = 3
		n       = 10
	)
	arrived := make(chan struct{}, n)
	releases := make(chan struct{}, n)
	srv := newRecServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-releases:
		case <-r.Context().Done():
		}
		io.WriteString(w, "ok")
	})
	p := NewPolicy(PolicyConfig{Hosts: map[string]HostConfig{srv.key: {Rate: rate.Inf, Concurrency: ceiling}}})
	c := policyClient(t, p)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := get(t, c, t.Context(), fmt.Sprintf("%s/w/%d", srv.URL, i)); err != nil {
				t.Error(err)
			}
		})
	}
	// Release one request at a time; after k releases at most k+ceiling
	// requests can have arrived.
	seen := 0
	for k := 0; k < n; k++ {
		for seen < min(n, k+ceiling) {
			<-arrived
			seen++
		}
		if st := stateOf(t, p, srv.key); st.InFlight > ceiling {
			t.Errorf("Hosts() in flight %d > ceiling %d", st.InFlight, ceiling)
		}
		releases <- struct{}{}
	}
	wg.Wait()
	srv.mu.Lock()
	peak := srv.peak
	srv.mu.Unlock()
	if peak != ceiling {
		t.Errorf("peak concurrency at the server %d, want exactly %d", peak, ceiling)
	}
	if st := stateOf(t, p, srv.key); st.InFlight != 0 {
		t.Errorf("in flight after all bodies closed = %d, want 0", st.InFlight)
	}
}

func TestAdaptiveLimit(t *testing.T) {
	t.Parallel()
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	p := NewPolicy(PolicyConfig{
		Hosts:      map[string]HostConfig{srv.key: {Rate: rate.Inf, Concurrency: 8}},
		MaxRetries: -1,
	})
	c := policyClient(t, p)
	for range 2 {
		if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 429 {
			t.Fatalf("got %d, %v; want 429", code, err)
		}
	}
	if st := stateOf(t, p, srv.key); st.Limit != 2 {
		t.Fatalf("limit after two 429s from ceiling 8 = %d, want 2", st.Limit)
	}
	for range 60 {
		if code, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil || code != 200 {
			t.Fatalf("got %d, %v; want 200", code, err)
		}
	}
	if st := stateOf(t, p, srv.key); st.Limit != 8 {
		t.Fatalf("limit after many successes = %d, want back at the ceiling 8 (never above)", st.Limit)
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	p := NewPolicy(PolicyConfig{Hosts: map[string]HostConfig{"API.Crossref.org": {Rate: 50}}})
	c := &http.Client{Transport: p.Wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}))}
	for _, u := range []string{"https://api.openalex.org/works", "https://api.crossref.org/works", "https://example.org/", "https://export.arxiv.org:443/api/query"} {
		if _, err := get(t, c, t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]HostConfig{
		"api.openalex.org": {Rate: 10, Burst: 1, Concurrency: 4},
		"api.crossref.org": {Rate: 50, Burst: 1, Concurrency: 1},
		"example.org":      {Rate: 1, Burst: 1, Concurrency: 1},
		"export.arxiv.org": {Rate: rate.Every(3 * time.Second), Burst: 1, Concurrency: 1},
	}
	got := p.Hosts()
	if len(got) != len(want) {
		t.Fatalf("Hosts() = %+v, want %d hosts", got, len(want))
	}
	for _, s := range got {
		w, ok := want[s.Host]
		if !ok || s.Rate != w.Rate || s.Burst != w.Burst || s.Concurrency != w.Concurrency {
			t.Errorf("host %s: rate %v burst %d conc %d; want %+v", s.Host, s.Rate, s.Burst, s.Concurrency, w)
		}
		if s.Breaker != BreakerClosed || s.InFlight != 0 {
			t.Errorf("host %s: breaker %s in flight %d", s.Host, s.Breaker, s.InFlight)
		}
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	srv := newRecServer(t, nil)
	p := NewPolicy(PolicyConfig{Hosts: map[string]HostConfig{srv.key: {Rate: rate.Every(time.Hour), Concurrency: 1}}})
	c := policyClient(t, p)
	if _, err := get(t, c, t.Context(), srv.URL+"/first"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := &waitSignal{ch: make(chan time.Duration, 1)}
	p.obs = w
	done := make(chan error, 1)
	go func() {
		_, err := get(t, c, ctx, srv.URL+"/second")
		done <- err
	}()
	<-w.ch // the request is waiting for its token
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled request succeeded")
	}
	if n := srv.count(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
	if st := stateOf(t, p, srv.key); st.InFlight != 0 {
		t.Errorf("in flight after cancel = %d, want 0", st.InFlight)
	}
}

type waitSignal struct {
	nopObserver
	ch chan time.Duration
}

func (w *waitSignal) Wait(_ string, d time.Duration) {
	select {
	case w.ch <- d:
	default:
	}
}

var _ = fulltext.CodeOf

func TestAdaptiveLimitOnLatency(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	var slow atomic.Bool
	// The handler moves the stub clock: that is the latency the policy sees.
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			clock.Advance(10 * time.Second)
		} else {
			clock.Advance(200 * time.Millisecond)
		}
		io.WriteString(w, "ok")
	})
	p := NewPolicy(PolicyConfig{
		Hosts: map[string]HostConfig{srv.key: {Rate: rate.Inf, Concurrency: 8}},
		Clock: clock,
	})
	c := policyClient(t, p)
	for range 10 {
		if _, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil {
			t.Fatal(err)
		}
	}
	if st := stateOf(t, p, srv.key); st.Limit != 8 {
		t.Fatalf("limit after fast responses = %d, want 8", st.Limit)
	}
	slow.Store(true)
	if _, err := get(t, c, t.Context(), srv.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	if st := stateOf(t, p, srv.key); st.Limit != 6 {
		t.Fatalf("limit after a response 50× slower than usual = %d, want 6", st.Limit)
	}
}
