package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
	"github.com/oafetch/oafetch/internal/sqlite"
)

// TestInterruptSavesStateAndExits3 is not parallel: it signals the test
// process itself, and parallel tests are paused while it runs.
func TestInterruptSavesStateAndExits3(t *testing.T) {
	sim := startSim(t, 30)
	out := filepath.Join(sim.dir, "out")
	var stalled simweb.Work
	var ids []string
	for _, w := range sim.srv.World().Works {
		ids = append(ids, w.Input)
		if w.Route == simweb.RouteArXiv && stalled.Input == "" {
			stalled = w
		}
	}
	if stalled.Input == "" {
		t.Fatal("the world has no arXiv-only work")
	}
	// arxiv.org answers with headers and then nothing: the pull is in flight.
	sim.srv.SetFaults([]simweb.Fault{{Host: "arxiv.org", Kind: simweb.FaultStall}})
	args := append(append([]string{"pull", "--out", out, "-q", "--workers", "2"}, ids...), sim.flags...)

	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(args, strings.NewReader(""), &stdout, &stderr, []string{"HOME=" + t.TempDir()})
	}()
	deadline := time.After(20 * time.Second)
	for !inFlight(t, out) {
		select {
		case code := <-done:
			t.Fatalf("pull ended (exit %d) before reaching the stalled host:\n%s", code, stderr.String())
		case <-deadline:
			t.Fatal("the pull never reached the stalled host")
		case <-time.After(10 * time.Millisecond): // polling the simulator's request log
		}
	}
	// First signal: stop claiming; second: abort the in-flight download.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Fatalf("exit %d, want 3 (interrupted)\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pull did not stop after two SIGINTs")
	}

	// Nothing is stuck: the next run, without the fault, finishes every work.
	sim.srv.SetFaults(nil)
	code, _, errs := oafetch(t, "", append([]string{"pull", "--out", out, "-q"}, sim.flags...)...)
	if code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	_, exp, _ := oafetch(t, "", "export", "--out", out)
	recs := readExport(t, exp)
	w, _ := fulltext.ParseWork(stalled.Input)
	if r := recs[w.ID.String()]; r.Code == nil || *r.Code != string(fulltext.CodeOKPDF) || r.State != string(fulltext.StateFinalized) {
		t.Errorf("interrupted work after resume: %+v", r)
	}
	if len(recs) != len(ids) {
		t.Errorf("%d records, want %d", len(recs), len(ids))
	}
	for id, r := range recs {
		if !fulltext.JobState(r.State).Terminal() {
			t.Errorf("%s left in %s", id, r.State)
		}
	}
}

// inFlight reports whether some job has received response headers and not
// finished (the stalled download), reading the job store as status does.
func inFlight(t *testing.T, out string) bool {
	t.Helper()
	db := filepath.Join(out, ".oafetch", "jobs.sqlite")
	if _, err := os.Stat(db); err != nil {
		return false
	}
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		return false
	}
	defer func() { _ = st.Close() }()
	s, err := st.Stats(t.Context())
	return err == nil && s.ByState[fulltext.StateHeadDone]+s.ByState[fulltext.StateStreaming] > 0
}
