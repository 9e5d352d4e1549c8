package fulltexttest

import (
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// RunWorkerRegistryTests is the conformance suite of
// fulltext.WorkerRegistry. newStore must return a fresh, empty store that
// takes its time from clock and is closed by a t.Cleanup it registers.
func RunWorkerRegistryTests(t *testing.T, newStore func(t *testing.T, clock *fulltext.StubClock) fulltext.WorkerRegistry) {
	t.Helper()
	t.Run("heartbeat, expiry and leave", func(t *testing.T) {
		t.Parallel()
		clock := fulltext.NewStubClock(jobStoreEpoch())
		s := newStore(t, clock)
		ctx := t.Context()
		live := func(within time.Duration) []fulltext.WorkerInfo {
			t.Helper()
			ws, err := s.LiveWorkers(ctx, within)
			if err != nil {
				t.Fatalf("LiveWorkers: %v", err)
			}
			return ws
		}
		beat := func(name string) {
			t.Helper()
			if err := s.Heartbeat(ctx, fulltext.WorkerInfo{Name: name, Host: "h-" + name, PID: len(name)}); err != nil {
				t.Fatalf("Heartbeat(%s): %v", name, err)
			}
		}
		if ws := live(time.Minute); len(ws) != 0 {
			t.Fatalf("fresh store has live workers %+v", ws)
		}
		start := clock.Now()
		beat("b:2")
		beat("a:1")
		clock.Advance(30 * time.Second)
		beat("a:1")
		ws := live(time.Minute)
		if len(ws) != 2 || ws[0].Name != "a:1" || ws[1].Name != "b:2" {
			t.Fatalf("LiveWorkers = %+v, want a:1 and b:2 by name", ws)
		}
		wantEqual(t, "a:1 host and pid", [2]any{ws[0].Host, ws[0].PID}, [2]any{"h-a:1", 3})
		wantTime(t, "a:1 Started", ws[0].Started, start)
		wantTime(t, "a:1 Seen", ws[0].Seen, clock.Now())
		clock.Advance(45 * time.Second) // b:2 last beat 75s ago, a:1 45s ago
		if ws := live(time.Minute); len(ws) != 1 || ws[0].Name != "a:1" {
			t.Fatalf("after b:2 went quiet LiveWorkers = %+v, want a:1", ws)
		}
		if err := s.Leave(ctx, "a:1"); err != nil {
			t.Fatalf("Leave: %v", err)
		}
		if err := s.Leave(ctx, "never-seen"); err != nil {
			t.Fatalf("Leave of an unknown worker: %v", err)
		}
		if ws := live(time.Hour); len(ws) != 1 || ws[0].Name != "b:2" {
			t.Fatalf("after Leave LiveWorkers(1h) = %+v, want b:2", ws)
		}
	})
}
