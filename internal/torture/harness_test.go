//go:build unix

package torture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/simweb"
	"github.com/oafetch/oafetch/internal/sqlite"
)

// scale sets the size of a torture run.
type scale struct {
	name string
	// works is the world size; every kill round pulls all of it.
	works int
	// kills is the minimum number of SIGKILLs over the kill rounds, half
	// of them at failpoints.
	kills int
	// stopWorks, faultWorks and multiWorks size the SIGSTOP, disk-fault
	// and four-worker scenarios (a prefix of the world).
	stopWorks, faultWorks, multiWorks int
	// planIDs are planned by four processes at once.
	planIDs int
	// resumeRounds kill a pull of resumeWorks bulk files of resumeBytes
	// each right after a checkpoint (crashResume).
	resumeRounds, resumeWorks int
	resumeBytes               int64
}

var (
	ciScale = scale{name: "ci", works: 300, kills: 30, stopWorks: 150, faultWorks: 150, multiWorks: 300, planIDs: 10_000,
		resumeRounds: 3, resumeWorks: 3, resumeBytes: 40 << 20}
	fullScale = scale{name: "full", works: 2000, kills: 200, stopWorks: 600, faultWorks: 600, multiWorks: 2000, planIDs: 10_000,
		resumeRounds: 8, resumeWorks: 4, resumeBytes: 40 << 20}
)

// Lease TTLs: short where the scenario waits for expiry, longer where a
// CPU-starved renewal must not look like a crash (four busy processes).
const (
	killTTL  = "3s"
	stopTTL  = 2 * time.Second
	multiTTL = "20s"
)

// harness is one torture run: the built binary, the simulated web serving
// it, and the counters of the summary.
type harness struct {
	t     *testing.T
	bin   string
	dir   string
	sim   *simweb.Server
	world []simweb.Work
	flags []string // point the binary at the simulator
	ids   string   // the world's identifiers, one per line
	rng   *rand.Rand
	sum   summary
}

// summary is printed at the end.
type summary struct {
	runs, kills, failpointKills, timedKills, garbled int
	stops                                            int
	recoveries, replays                              int
	injectedDiskErrors                               int
	scenarios, invariants                            int
	// okExisting counts works that ended ok-existing where the world says
	// ok-pdf: a replay after a crash between the artifact commit and the
	// FINALIZE finds its own bytes stored and records DEDUPED.
	okExisting int
	// resumed counts transfers continued after a SIGKILL with a Range
	// request from their last checkpoint; resumedBytes the bytes those
	// kept (not sent again).
	resumed      int
	resumedBytes int64
	byPoint      map[string]int
}

func (s summary) String() string {
	var pts []string
	for p, n := range s.byPoint {
		pts = append(pts, fmt.Sprintf("%s=%d", p, n))
	}
	sort.Strings(pts)
	return fmt.Sprintf("torture summary: %d runs, %d kills (%d at failpoints, %d at random moments), %d temp sets garbled (power-loss model), "+
		"%d SIGSTOPs, %d crash_recovery events, %d interrupted operations replayed, %d injected disk errors, "+
		"%d scenarios, %d invariant checks passed, %d works ended ok-existing after a replay, "+
		"%d transfers resumed after a crash (%d MiB not sent again)\n  kills by failpoint: %s",
		s.runs, s.kills, s.failpointKills, s.timedKills, s.garbled, s.stops, s.recoveries, s.replays,
		s.injectedDiskErrors, s.scenarios, s.invariants, s.okExisting, s.resumed, s.resumedBytes>>20, strings.Join(pts, " "))
}

func newHarness(t *testing.T, sc scale, seed uint64) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), sum: summary{byPoint: map[string]int{}}}
	h.bin = buildBinary(t, dir)

	srv, err := simweb.New(simweb.Config{Works: sc.works, Seed: int64(seed % 1000)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	h.sim, h.world = srv, srv.World().Works
	ca := filepath.Join(dir, "ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sim.toml")
	if err := os.WriteFile(conf, []byte(simConfig()), 0o644); err != nil {
		t.Fatal(err)
	}
	h.flags = []string{"--ca-file", ca, "--config", conf}
	for _, ct := range srv.ConnectTo() {
		h.flags = append(h.flags, "--connect-to", ct)
	}
	h.ids = h.writeIDs("world-ids.txt", h.world)
	return h
}

// simConfig lifts the per-host limits: the simulated web is ours.
func simConfig() string {
	var b strings.Builder
	b.WriteString("mailto = \"torture@oafetch.example.org\"\n\n[sources.core]\napi_key = \"demo-key\"\n\n[hosts.default]\nrate = \"1000/s\"\nconcurrency = 8\n")
	hosts := make([]string, 0)
	for h := range hostpolicy.DefaultHosts() {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[hosts.%q]\nrate = \"1000/s\"\nconcurrency = 8\n", h)
	}
	return b.String()
}

// buildBinary builds cmd/oafetch once into dir. A missing go tool skips
// the harness, except under CI where it fails.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool, err = filepath.Join(root, "bin", "go"), nil
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("torture: no go tool to build the binary: %v", err)
		}
		t.Skipf("torture: no go tool to build the binary: %v", err)
	}
	bin := filepath.Join(dir, "oafetch")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "github.com/oafetch/oafetch/cmd/oafetch")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (h *harness) writeIDs(name string, works []simweb.Work) string {
	h.t.Helper()
	var b strings.Builder
	for _, w := range works {
		b.WriteString(w.Input + "\n")
	}
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// proc is one running oafetch process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

// start runs the binary with args; env entries are added to a minimal
// environment.
func (h *harness) start(env []string, args ...string) *proc {
	h.t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.CommandContext(h.t.Context(), h.bin, args...)
	p.cmd.Env = append([]string{"HOME=" + h.dir, "TERM=dumb", "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		h.t.Fatalf("start %v: %v", args, err)
	}
	h.sum.runs++
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// signal sends sig; an already exited process is not an error.
func (p *proc) signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// result waits for the process and reports its exit code, or the signal
// that killed it (exit code -1).
func (p *proc) result(t *testing.T, limit time.Duration) (int, syscall.Signal) {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.signal(syscall.SIGKILL)
		<-p.done
		t.Fatalf("%v did not end within %s\nstderr:\n%s", p.cmd.Args[1:], limit, tail(p.stderr.String()))
	}
	if p.err == nil {
		return 0, 0
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		t.Fatalf("%v: %v", p.cmd.Args[1:], p.err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return ee.ExitCode(), 0
}

// run runs the binary to its end and fails the test unless it exits 0.
func (h *harness) run(env []string, args ...string) *proc {
	h.t.Helper()
	p := h.start(env, args...)
	if code, sig := p.result(h.t, 5*time.Minute); code != 0 {
		h.t.Fatalf("%v: exit %d (signal %v)\nstdout:\n%s\nstderr:\n%s", args, code, sig, tail(p.stdout.String()), tail(p.stderr.String()))
	}
	h.noteLogs(p)
	return p
}

// noteLogs counts the crash_recovery events and replays a process logged,
// and fails on "database is locked".
func (h *harness) noteLogs(p *proc) {
	h.t.Helper()
	s := p.stderr.String()
	h.sum.recoveries += strings.Count(s, "crash_recovery")
	h.sum.replays += strings.Count(s, "replaying interrupted operations")
	for _, bad := range []string{"database is locked", "SQLITE_BUSY"} {
		if strings.Contains(s, bad) {
			h.t.Errorf("%v logged %q:\n%s", p.cmd.Args[1:], bad, tail(s))
		}
	}
}

func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// openStore opens the job store of out for inspection.
func (h *harness) openStore(out string) *sqlite.Store {
	h.t.Helper()
	st, err := sqlite.Open(context.WithoutCancel(h.t.Context()), filepath.Join(out, ".oafetch", "jobs.sqlite"), sqlite.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// leasedBy lists the jobs a process holds leases on (work id → epoch).
func (h *harness) leasedBy(st *sqlite.Store, pid int) map[string]int64 {
	h.t.Helper()
	out := map[string]int64{}
	// Owners are "host:pid" (one claimer per process).
	tag := ":" + strconv.Itoa(pid)
	err := st.Each(h.t.Context(), func(j fulltext.Job) error {
		if !j.State.Terminal() && j.State != fulltext.StatePlanned && strings.HasSuffix(j.Owner, tag) {
			out[j.Work.ID.String()] = j.Epoch
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// garbleTemps is the power-loss model of the file store: what was not
// fsynced may be lost or garbled. Artifacts are fsynced, renamed and their
// directory fsynced before FINALIZE; kept prefixes (`-keep-`) and
// checkpoint sidecars (`.ckpt`) are fsynced and renamed with a directory
// fsync too. So each temp is truncated or overwritten at a random place —
// past its checkpoint's offset when it has one (the checkpoint fsynced the
// bytes before it) — and a staged sidecar (`.ckpn`, `.json.new`) anywhere.
func (h *harness) garbleTemps(out string) {
	h.t.Helper()
	dir := filepath.Join(out, ".oafetch", "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if (strings.Contains(name, "-keep-") && !strings.HasSuffix(name, ".new")) || strings.HasSuffix(name, ".ckpt") {
			continue // fsynced before it got this name
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		// A temp made read-only was fsynced by Commit and may already be
		// linked as a content object: a power loss keeps it (and root could
		// still write to it, which a power loss cannot).
		if err != nil || fi.Size() == 0 || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o200 == 0 {
			continue
		}
		synced := int64(0)
		if base, ok := strings.CutSuffix(name, ".part"); ok {
			synced = checkpointOffset(filepath.Join(dir, base+".ckpt"))
		}
		if synced >= fi.Size() {
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			continue
		}
		if h.rng.IntN(2) == 0 {
			err = f.Truncate(synced + h.rng.Int64N(fi.Size()-synced))
		} else {
			junk := make([]byte, 512)
			for i := range junk {
				junk[i] = byte(h.rng.UintN(256))
			}
			_, err = f.WriteAt(junk, synced+h.rng.Int64N(fi.Size()-synced))
		}
		_ = f.Close()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	h.sum.garbled++
}

// checkpoint is what a checkpoint sidecar records (internal/filestore,
// checkpoint.go): one JSON line, then its SHA-256.
type checkpoint struct {
	URL    string `json:"url"`
	Offset int64  `json:"offset"`
	Total  int64  `json:"total"`
}

func readCheckpoint(path string) (checkpoint, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return checkpoint{}, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var c checkpoint
	if json.Unmarshal(line, &c) != nil || c.Offset <= 0 {
		return checkpoint{}, false
	}
	return c, true
}

// checkpointOffset is the offset a temp's checkpoint sidecar at path
// vouches for, 0 without one.
func checkpointOffset(path string) int64 {
	c, _ := readCheckpoint(path)
	return c.Offset
}
