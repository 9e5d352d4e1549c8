//go:build unix

package torture

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/sqlite"
)

// killPoints are the failpoints a kill run picks from, with the largest
// hit number drawn for each (a point hit several times per job gets a
// wider range, so that kills land at every stage of a run).
var killPoints = []struct {
	name   string
	maxHit int
}{
	{"before-ledger-step", 60},
	{"after-ledger-step", 60},
	{"mid-stream", 20},
	{"after-stream", 20},
	{"before-artifact-commit", 20},
	{"fs-write", 80},
	{"fs-sync", 40},
	{"fs-link", 30},
	{"fs-after-publish", 20},
	{"fs-rename", 20},
	{"after-artifact-commit", 20},
	{"before-finish", 20},
	{"after-finish", 20},
}

func TestTorture(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("torture: skipped under -short (CI runs it)")
	}
	sc := ciScale
	if os.Getenv("OAFETCH_TORTURE") == "full" {
		sc = fullScale
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OAFETCH_TORTURE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OAFETCH_TORTURE_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("torture %s: seed %d (OAFETCH_TORTURE_SEED=%d reproduces the schedule)", sc.name, seed, seed)
	start := time.Now()
	h := newHarness(t, sc, seed)

	// The scenarios share the simulator and the counters; they run one
	// after the other so that the machine is not overcommitted.
	steps := []struct {
		name string
		fn   func(*harness, scale)
	}{
		{"PlanConcurrently", (*harness).planConcurrently},
		{"KillRounds", (*harness).killRounds},
		{"CrashResume", (*harness).crashResume},
		{"StopWorker", (*harness).stopWorker},
		{"DiskFaults", (*harness).diskFaults},
		{"FourWorkers", (*harness).fourWorkers},
	}
	only := os.Getenv("OAFETCH_TORTURE_ONLY") // a step name, to run it alone
	for _, s := range steps {
		if only != "" && s.name != only {
			continue
		}
		began := time.Now()
		s.fn(h, sc)
		t.Logf("%s done in %s", s.name, time.Since(began).Round(time.Millisecond))
		if t.Failed() {
			break
		}
	}
	t.Logf("%s\n  took %s", h.sum, time.Since(start).Round(time.Millisecond))
	if !t.Failed() && only == "" && h.sum.kills < sc.kills {
		t.Errorf("only %d kills, want at least %d", h.sum.kills, sc.kills)
	}
}

// killRounds pulls the whole world over and over, killing the process
// with SIGKILL at random moments (timed) and at failpoints (alternately),
// restarting it each time, until the round's pull ends by itself; then one
// clean run and the invariants. Rounds repeat, each on a fresh store,
// until sc.kills kills were made.
func (h *harness) killRounds(sc scale) {
	t := h.t
	base := []string{"OAFETCH_JOBS_LEASE_TTL=" + killTTL, "OAFETCH_JOBS_MAX_ATTEMPTS=50"}
	for round := 0; h.sum.kills < sc.kills; round++ {
		out := h.outDir(fmt.Sprintf("kill-%d", round))
		h.sim.ResetRequests()
		interrupted := map[string]int{}
		args := append([]string{"pull", "--input", h.ids, "--out", out, "--workers", "8"}, h.flags...)
		for {
			env := append([]string(nil), base...)
			atPoint := h.sum.kills%2 == 0 && h.sum.kills < sc.kills
			delay := time.Duration(100+h.rng.IntN(1100)) * time.Millisecond
			point := ""
			if atPoint {
				kp := killPoints[h.rng.IntN(len(killPoints))]
				point = kp.name
				env = append(env, failpoint.EnvVar+"="+fmt.Sprintf("%s:kill@%d", kp.name, 1+h.rng.IntN(kp.maxHit)))
				delay = 5 * time.Second // a point not reached: fall back to a timed kill
			}
			if h.sum.kills >= sc.kills {
				delay = 10 * time.Minute // enough kills: let the round finish
			}
			p := h.start(env, args...)
			timer := time.NewTimer(delay)
			sentKill := false
			select {
			case <-p.done:
			case <-timer.C:
				p.signal(syscall.SIGKILL)
				sentKill = true
			}
			timer.Stop()
			code, sig := p.result(t, 10*time.Minute)
			if sig != syscall.SIGKILL {
				if code != 0 {
					t.Fatalf("round %d: pull exit %d (signal %v)\nstderr:\n%s", round, code, sig, tail(p.stderr.String()))
				}
				h.noteLogs(p)
				break // the round's pull ended by itself
			}
			h.sum.kills++
			if sentKill {
				h.sum.timedKills++
			} else {
				h.sum.failpointKills++
				h.sum.byPoint[point]++
			}
			h.noteLogs(p)
			st := h.openStore(out)
			for id := range h.leasedBy(st, p.pid()) {
				interrupted[id]++
			}
			_ = st.Close()
			if h.rng.IntN(2) == 0 {
				h.garbleTemps(out)
			}
		}
		// One clean run: nothing left to do, nothing to repair.
		h.run(base, args...)
		h.checkInvariants(expect{scenario: fmt.Sprintf("kill round %d", round), out: out, works: h.world, interrupted: interrupted, truth: true})
		if t.Failed() {
			return
		}
	}
}

// stopWorker stops a worker with SIGSTOP while it holds leases, lets a
// second worker take its jobs over for twice the lease TTL, resumes it, and
// checks that the stopped worker wrote nothing under its lost leases.
func (h *harness) stopWorker(sc scale) {
	t := h.t
	out := h.outDir("stop")
	works := h.world[:sc.stopWorks]
	ids := h.writeIDs("stop-ids.txt", works)
	env := []string{"OAFETCH_JOBS_LEASE_TTL=" + stopTTL.String()}
	h.run(env, append([]string{"plan", "--input", ids, "--out", out}, h.flags...)...)
	h.sim.ResetRequests()

	work := append([]string{"work", "--out", out, "--workers", "4"}, h.flags...)
	p1 := h.start(env, work...)
	st := h.openStore(out)
	defer func() { _ = st.Close() }()
	var held map[string]int64
	waitFor(t, 30*time.Second, "the first worker to hold leases", func() bool {
		held = h.leasedBy(st, p1.pid())
		return len(held) > 0
	})
	p1.signal(syscall.SIGSTOP)
	h.sum.stops++
	held = h.leasedBy(st, p1.pid()) // what it holds now that it cannot move
	ledgerAtStop := map[string]int{}
	for id := range held {
		ledgerAtStop[id] = len(h.ledger(st, id))
	}
	stoppedAt := time.Now()

	p2 := h.start(env, work...)
	waitFor(t, 60*time.Second, "the second worker to take the stopped worker's jobs", func() bool {
		for id, epoch := range held {
			if h.job(st, id).Epoch == epoch {
				return false
			}
		}
		return time.Since(stoppedAt) >= 2*stopTTL
	})
	p1.signal(syscall.SIGCONT)
	for _, p := range []*proc{p1, p2} {
		if code, sig := p.result(t, 5*time.Minute); code != 0 {
			t.Fatalf("work exit %d (signal %v):\n%s", code, sig, tail(p.stderr.String()))
		}
		h.noteLogs(p)
	}
	if !strings.Contains(p1.stderr.String(), "lease lost") {
		t.Errorf("the resumed worker did not report its lost leases:\n%s", tail(p1.stderr.String()))
	}
	// Fencing: no row was written under the stopped worker's epochs after
	// the stop.
	interrupted := map[string]int{}
	for id, epoch := range held {
		interrupted[id] = 1
		for _, r := range h.ledger(st, id)[ledgerAtStop[id]:] {
			if r.Epoch == epoch {
				t.Errorf("%s: the stopped worker wrote %s %s at epoch %d after losing its lease", id, r.Op, r.Status, epoch)
			}
		}
	}
	h.sum.invariants++
	h.run(env, work...)
	h.checkInvariants(expect{scenario: "SIGSTOP", out: out, works: works, interrupted: interrupted, truth: true})
}

// diskFaults injects ENOSPC and EIO into temp writes, fsyncs, renames and
// links: the jobs hit end in store-error with nothing partial visible;
// `oafetch retry --code store-error` and a clean run finish them.
func (h *harness) diskFaults(sc scale) {
	t := h.t
	out := h.outDir("disk")
	works := h.world[:sc.faultWorks]
	ids := h.writeIDs("disk-ids.txt", works)
	h.sim.ResetRequests()
	env := []string{"OAFETCH_JOBS_LEASE_TTL=" + killTTL}
	faults := failpoint.EnvVar + "=fs-write:enospc%2,fs-sync:eio%5,fs-rename:enospc%5,fs-link:eio%5"
	h.run(append([]string{faults}, env...), append([]string{"pull", "--input", ids, "--out", out, "--workers", "8"}, h.flags...)...)

	st := h.openStore(out)
	hit := map[string]int{}
	failed := 0
	if err := st.Each(t.Context(), func(j fulltext.Job) error {
		if j.Code == fulltext.CodeStoreError {
			// The commit failed after a complete download: the retry
			// downloads again.
			failed++
			hit[j.Work.ID.String()]++
		}
		// A candidate cut by a disk error may be fetched again from
		// another source in the same claim: that is a download it allows.
		atts, err := st.Attempts(t.Context(), j.ID)
		for _, a := range atts {
			if a.Code == fulltext.CodeStoreError {
				hit[j.Work.ID.String()]++
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	for _, n := range hit {
		h.sum.injectedDiskErrors += n
	}
	if failed == 0 {
		t.Fatalf("no job ended in store-error: the disk faults were not injected")
	}
	// Nothing partial is visible, nothing is left behind.
	v := h.start(nil, "verify", "--out", out)
	if code, _ := v.result(t, 5*time.Minute); code != 0 {
		t.Errorf("verify after disk errors: exit %d\n%s", code, tail(v.stdout.String()))
	}
	h.sum.invariants++

	r := h.run(nil, "retry", "--out", out, "--code", string(fulltext.CodeStoreError))
	if !regexp.MustCompile(`\b` + strconv.Itoa(failed) + `\b`).MatchString(r.stdout.String()) {
		t.Errorf("retry output %q, want %d store-error jobs re-planned", r.stdout.String(), failed)
	}
	h.run(env, append([]string{"work", "--out", out, "--workers", "8"}, h.flags...)...)
	h.checkInvariants(expect{scenario: "disk faults", out: out, works: works, interrupted: hit, truth: true})
}

// fourWorkers runs four `oafetch work` processes on one SQLite file and
// out directory: no "database is locked", no job finalized twice, no URL
// downloaded twice.
func (h *harness) fourWorkers(sc scale) {
	t := h.t
	out := h.outDir("four")
	works := h.world[:sc.multiWorks]
	ids := h.writeIDs("four-ids.txt", works)
	env := []string{"OAFETCH_JOBS_LEASE_TTL=" + multiTTL}
	h.run(env, append([]string{"plan", "--input", ids, "--out", out}, h.flags...)...)
	h.sim.ResetRequests()
	var ps []*proc
	for range 4 {
		ps = append(ps, h.start(env, append([]string{"work", "--out", out, "--workers", "4"}, h.flags...)...))
	}
	for _, p := range ps {
		if code, sig := p.result(t, 10*time.Minute); code != 0 {
			t.Fatalf("work exit %d (signal %v):\n%s", code, sig, tail(p.stderr.String()))
		}
		h.noteLogs(p)
	}
	h.checkInvariants(expect{scenario: "four workers", out: out, works: works, interrupted: nil, truth: true})
}

// planConcurrently runs four `oafetch plan` processes on the same ids at
// once: exactly one job per id.
func (h *harness) planConcurrently(sc scale) {
	t := h.t
	out := h.outDir("plan")
	var b strings.Builder
	for i := range sc.planIDs {
		fmt.Fprintf(&b, "10.5555/torture.plan.%d\n", i)
	}
	ids := filepath.Join(h.dir, "plan-ids.txt")
	if err := os.WriteFile(ids, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var ps []*proc
	for range 4 {
		ps = append(ps, h.start(nil, "plan", "--input", ids, "--out", out))
	}
	created := 0
	newRE := regexp.MustCompile(`planned (\d+) works: (\d+) new`)
	for _, p := range ps {
		if code, sig := p.result(t, 5*time.Minute); code != 0 {
			t.Fatalf("plan exit %d (signal %v):\n%s", code, sig, tail(p.stderr.String()))
		}
		h.noteLogs(p)
		m := newRE.FindStringSubmatch(p.stdout.String())
		if m == nil {
			t.Fatalf("plan output %q", p.stdout.String())
		}
		n, _ := strconv.Atoi(m[2])
		created += n
	}
	st := h.openStore(out)
	defer func() { _ = st.Close() }()
	stats, err := st.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	h.sum.scenarios++
	if stats.Total != sc.planIDs || created != sc.planIDs {
		t.Errorf("4 processes planning %d ids: %d jobs, %d reported new; want exactly %d", sc.planIDs, stats.Total, created, sc.planIDs)
	} else {
		h.sum.invariants += 2
	}
}

// waitFor polls cond until it holds or limit passes. The harness watches
// other processes through their job store: there is no signal to wait on.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		<-tick.C
	}
}

func (h *harness) job(st *sqlite.Store, id string) fulltext.Job {
	h.t.Helper()
	w, err := fulltext.ParseID(id)
	if err != nil {
		h.t.Fatal(err)
	}
	j, err := st.Get(h.t.Context(), w)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) ledger(st *sqlite.Store, id string) []fulltext.LedgerEntry {
	h.t.Helper()
	rows, err := st.Ledger(h.t.Context(), h.job(st, id).ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}
