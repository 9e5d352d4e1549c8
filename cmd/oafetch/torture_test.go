package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/postgres"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/simweb"
)

// proc is one real `oafetch` process started from the test binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
	err  error
}

// startOafetch runs the test binary as `oafetch args…` with env.
func startOafetch(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: new(bytes.Buffer), done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(append(os.Environ(), execMainEnv+"=1"), env...)
	w := &lockedWriter{w: p.out}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestTortureFleet runs three real `oafetch work` processes on PostgreSQL +
// S3 against a slowed simulated web, kills one with SIGKILL mid-run, stops
// another with SIGSTOP for longer than the lease TTL (its leases are
// reclaimed; when it resumes its late writes are fenced), and starts a
// replacement. Afterwards every job is terminal with the expected code,
// none has two FINALIZE rows, every full text in the bucket reads back with
// its recorded sha256 and size, and a final run's reconciler leaves no temp.
func TestTortureFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes for tens of seconds (-short)")
	}
	t.Parallel()
	dsn, endpoint := distributedEnv(t)
	ctx := t.Context()
	fleetDSN, bucket, s3opts := fleetStores(t, dsn)
	out := "s3://" + bucket + "/run"

	sim := startSim(t, 40)
	// Every response drips: a job takes long enough to be caught mid-flight.
	sim.srv.SetFaults([]simweb.Fault{{Kind: simweb.FaultDrip, Bytes: 2048, Delay: 15 * time.Millisecond}})
	var input strings.Builder
	for _, w := range sim.srv.World().Works {
		input.WriteString(w.Input + "\n")
	}
	ids := filepath.Join(sim.dir, "ids.txt")
	if err := os.WriteFile(ids, []byte(input.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const ttl = 2 * time.Second
	env := []string{"HOME=" + t.TempDir(), "OAFETCH_S3_ENDPOINT=" + endpoint, "OAFETCH_S3_PATH_STYLE=true",
		"AWS_ACCESS_KEY_ID=" + s3opts.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3opts.SecretKey,
		"OAFETCH_JOBS_LEASE_TTL=" + ttl.String(), "OAFETCH_DB=" + fleetDSN}
	base := append([]string{"--out", out, "-q"}, sim.flags...)
	plan := startOafetch(t, "plan", env, append([]string{"plan", "--input", ids}, base...)...)
	<-plan.done
	if plan.err != nil {
		t.Fatalf("plan: %v\n%s", plan.err, plan.out)
	}

	store, err := postgres.Open(ctx, fleetDSN, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	terminal := func() int {
		t.Helper()
		st, err := store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for s, c := range st.ByState {
			if s.Terminal() {
				n += c
			}
		}
		return n
	}
	// waitFor polls the store (the processes are real: no hook to wait on).
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond) // polling another process's progress
		}
	}

	workArgs := append([]string{"work", "--workers", "3"}, base...)
	var procs []*proc
	for i := range 3 {
		procs = append(procs, startOafetch(t, fmt.Sprintf("worker-%d", i), env, workArgs...))
	}
	waitFor("the first finished jobs", func() bool { return terminal() >= 5 })

	// kill -9 worker-0 with leases in hand.
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[0].done
	// SIGSTOP worker-1 for longer than the lease TTL.
	if err := procs[1].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := terminal()
	waitFor("progress while worker-1 is stopped", func() bool { return terminal() >= stoppedAt+3 })
	host, _ := os.Hostname()
	owner1 := fmt.Sprintf("%s:%d/", host, procs[1].cmd.Process.Pid)
	waitFor("worker-1's leases to expire", func() bool {
		st, err := store.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for owner, n := range st.Workers {
			if strings.HasPrefix(owner, owner1) && n > 0 {
				return false
			}
		}
		return true
	})
	if err := procs[1].cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	procs = append(procs, startOafetch(t, "worker-3", env, workArgs...))

	for _, p := range procs[1:] {
		select {
		case <-p.done:
		case <-time.After(120 * time.Second):
			t.Fatalf("%s did not finish:\n%s", p.name, p.out)
		}
		if p.err != nil {
			t.Errorf("%s: %v\n%s", p.name, p.err, p.out)
		}
	}
	var ee *exec.ExitError
	if !errors.As(procs[0].err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("worker-0 was not killed: %v", procs[0].err)
	}

	// A last run reconciles (temps of dead leases) and finds nothing to do.
	last := startOafetch(t, "final", env, workArgs...)
	<-last.done
	if last.err != nil {
		t.Fatalf("final run: %v\n%s", last.err, last.out)
	}

	arts, err := s3store.Open(ctx, bucket, "run", s3opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFleetInvariants(t, ctx, store, arts, sim.srv.World().Works)
	// The killed worker held leases: some job was claimed again.
	reclaimed := 0
	if err := store.Each(ctx, func(j fulltext.Job) error {
		if j.Epoch > 1 {
			reclaimed++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if reclaimed == 0 {
		t.Error("no job was ever reclaimed: the kill and the stop hit no lease")
	}
	t.Logf("%d jobs were claimed more than once", reclaimed)
	temps, err := arts.Temps(ctx)
	if err != nil || len(temps) != 0 {
		t.Errorf("temps left after the final reconcile: %+v, %v", temps, err)
	}
}

// checkFleetInvariants checks every job against the world: terminal, the
// expected code (or a legitimate alternative winner), at most one
// FINALIZE, and every full text readable with its sha256 and size.
func checkFleetInvariants(t *testing.T, ctx context.Context, store fulltext.JobStore, arts fulltext.ArtifactStore, world []simweb.Work) {
	t.Helper()
	want := map[string]simweb.Work{}
	for _, w := range world {
		id, err := fulltext.ParseWork(w.Input)
		if err != nil {
			t.Fatal(err)
		}
		want[id.ID.String()] = w
	}
	n := 0
	err := store.Each(ctx, func(j fulltext.Job) error {
		n++
		if !j.State.Terminal() {
			t.Errorf("%s: state %s, want terminal", j.Work.ID, j.State)
			return nil
		}
		w := want[j.Work.ID.String()]
		alt := w.Want.Outcome() == fulltext.OutcomeOK && j.Code.Outcome() == fulltext.OutcomeOK &&
			j.Result != nil && wantsSource(w, j.Result.Source)
		if j.Code != w.Want && !alt {
			t.Errorf("%s (%s): code %s, want %s (%s)", j.Work.ID, w.Route, j.Code, w.Want, j.Detail)
		}
		ledger, err := store.Ledger(ctx, j.ID)
		if err != nil {
			return err
		}
		fin := 0
		for _, e := range ledger {
			if e.Op == fulltext.OpFinalize && e.Status == fulltext.OpCompleted {
				fin++
			}
		}
		if fin > 1 {
			t.Errorf("%s: finalized %d times", j.Work.ID, fin)
		}
		if j.Code.Outcome() != fulltext.OutcomeOK {
			return nil
		}
		if j.Result == nil {
			t.Errorf("%s: ok without a result", j.Work.ID)
			return nil
		}
		rc, err := arts.Open(ctx, j.Result.Path)
		if err != nil {
			t.Errorf("%s: %v", j.Work.ID, err)
			return nil
		}
		defer rc.Close()
		h := sha256.New()
		size, err := io.Copy(h, rc)
		if err != nil || size != j.Result.Bytes || hex.EncodeToString(h.Sum(nil)) != j.Result.SHA256 {
			t.Errorf("%s: %s reads %d bytes (%v), sha256 %x; want %d bytes, %s", j.Work.ID, j.Result.Path,
				size, err, h.Sum(nil), j.Result.Bytes, j.Result.SHA256)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("%d jobs, want %d", n, len(want))
	}
}
