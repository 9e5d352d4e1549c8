package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/sqlite"
)

// TestFleetHeartbeatAndShare checks that a work process registers its
// heartbeat, takes 1/n of each host's rate for n live workers, shows up in
// status, and leaves on stop.
func TestFleetHeartbeatAndShare(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	db := filepath.Join(out, ".oafetch", "jobs.sqlite")
	code, _, stderr := oafetch(t, "", "plan", "--out", out, "10.5555/fleet.1")
	if code != exitOK {
		t.Fatalf("plan exit %d: %s", code, stderr)
	}
	store, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	for _, name := range []string{"other-a:1", "other-b:2"} {
		if err := store.Heartbeat(t.Context(), fulltext.WorkerInfo{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	policy := hostpolicy.NewPolicy(hostpolicy.PolicyConfig{})
	stop := startFleet(t.Context(), store, policy, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := policy.FleetShare(); got != 3 {
		t.Errorf("fleet share with two other live workers = %d, want 3", got)
	}
	self, _, _ := processName()
	code, status, stderr := oafetch(t, "", "status", "--out", out)
	if code != exitOK {
		t.Fatalf("status exit %d: %s", code, stderr)
	}
	for _, want := range []string{"worker", self, "other-a:1", "other-b:2"} {
		if !strings.Contains(status, want) {
			t.Errorf("status does not show %q:\n%s", want, status)
		}
	}
	stop()
	live, err := store.LiveWorkers(t.Context(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range live {
		if w.Name == self {
			t.Errorf("heartbeat of %s left after stop: %+v", self, live)
		}
	}
}
