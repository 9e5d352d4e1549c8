package hostpolicy

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

type breakerLog struct {
	nopObserver
	mu     sync.Mutex
	states []BreakerState
}

func (b *breakerLog) Breaker(_ string, s BreakerState) {
	b.mu.Lock()
	b.states = append(b.states, s)
	b.mu.Unlock()
}

func (b *breakerLog) list() []BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.states)
}

func TestBreakerOpensAndHalfOpens(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC))
	var healthy atomic.Bool
	srv := newRecServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			io.WriteString(w, "ok")
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	obs := &breakerLog{}
	cfg := fastRetries(srv.key, -1)
	cfg.Clock = clock
	cfg.BreakerThreshold = 3
	cfg.BreakerCooldown = 30 * time.Second
	cfg.Observer = obs
	p := NewPolicy(cfg)
	c := policyClient(t, p)

	expect := func(step string, wantCode int, wantErr fulltext.Code, wantHits int) {
		t.Helper()
		code, err := get(t, c, t.Context(), srv.URL+"/x")
		if got := fulltext.CodeOf(err); got != wantErr || code != wantCode {
			t.Fatalf("%s: status %d code %q (%v); want status %d code %q", step, code, got, err, wantCode, wantErr)
		}
		if n := srv.count(); n != wantHits {
			t.Fatalf("%s: server saw %d requests, want %d", step, n, wantHits)
		}
	}
	for i := range 3 {
		expect("failure "+string(rune('1'+i)), 500, "", i+1)
	}
	if !p.BreakerOpen(srv.key) || stateOf(t, p, srv.key).Breaker != BreakerOpen {
		t.Fatal("breaker not open after 3 consecutive failures")
	}
	expect("open fails fast", 0, fulltext.CodeSkipBreaker, 3)
	clock.Advance(29 * time.Second)
	expect("still open before the cool-down", 0, fulltext.CodeSkipBreaker, 3)
	clock.Advance(2 * time.Second)
	if p.BreakerOpen(srv.key) {
		t.Error("BreakerOpen true after the cool-down")
	}
	expect("half-open probe fails", 500, "", 4)
	expect("re-opened", 0, fulltext.CodeSkipBreaker, 4)
	clock.Advance(31 * time.Second)
	healthy.Store(true)
	expect("half-open probe succeeds", 200, "", 5)
	expect("closed", 200, "", 6)
	want := []BreakerState{BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerClosed}
	if got := obs.list(); !slices.Equal(got, want) {
		t.Errorf("breaker transitions %v, want %v", got, want)
	}
}

func TestBreakerHalfOpenAdmitsOneProbe(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	b := breaker{threshold: 2, cooldown: time.Minute, state: BreakerClosed}
	b.record(failed, false, now)
	if b.state != BreakerClosed {
		t.Fatal("opened below the threshold")
	}
	b.record(healthy, false, now)
	b.record(failed, false, now)
	if b.state != BreakerClosed {
		t.Fatal("a success did not reset the failure count")
	}
	b.record(failed, false, now)
	if b.state != BreakerOpen {
		t.Fatal("not open at the threshold")
	}
	later := now.Add(time.Minute)
	ok1, probe1 := b.allow(later)
	ok2, _ := b.allow(later)
	if !ok1 || !probe1 || ok2 {
		t.Fatalf("half-open: first (%v, probe %v), second %v; want exactly one probe", ok1, probe1, ok2)
	}
	b.record(neutral, true, later) // a cancelled probe frees the slot
	if ok, probe := b.allow(later); !ok || !probe || b.state != BreakerHalfOpen {
		t.Fatalf("after a neutral probe: ok %v probe %v state %s", ok, probe, b.state)
	}
}
