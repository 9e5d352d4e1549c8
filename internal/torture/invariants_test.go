//go:build unix

package torture

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// expect is what the invariants are checked against.
type expect struct {
	scenario string
	out      string
	// works were planned; each must have exactly one job.
	works []simweb.Work
	// interrupted counts, per work id, the claims a crash, a stop or an
	// injected disk error cut short: each allows one more download.
	interrupted map[string]int
	// truth: every work must end with the outcome the world says.
	truth bool
}

// checkInvariants checks, after a scenario's clean run:
//
//   - every planned work has a job, and it is terminal (0 lost);
//   - FINALIZED/DEDUPED jobs have exactly one completed FINALIZE ledger
//     row, at their final epoch; other jobs have none;
//   - every finalized artifact exists; no artifact lacks a finalized job;
//     no work has two artifacts;
//   - no temp file is left;
//   - `oafetch verify` exits 0 (every artifact matches its sha256);
//   - each winning URL was downloaded in full at most once per claim that
//     was not interrupted, plus once per interruption (request log of the
//     simulator);
//   - with truth, every work ends with the outcome the world says.
func (h *harness) checkInvariants(ex expect) {
	t := h.t
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	h.sum.scenarios++
	pass := func(ok bool, format string, args ...any) {
		t.Helper()
		if ok {
			h.sum.invariants++
			return
		}
		t.Errorf(ex.scenario+": "+format, args...)
	}

	v := h.start(nil, "verify", "--out", ex.out)
	code, _ := v.result(t, 5*time.Minute)
	pass(code == 0, "verify exit %d:\n%s%s", code, tail(v.stdout.String()), tail(v.stderr.String()))

	st := h.openStore(ex.out)
	defer func() { _ = st.Close() }()
	arts, err := filestore.Open(ex.out, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer arts.Close()

	stats, err := st.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pass(stats.Total == len(ex.works), "%d jobs for %d planned works", stats.Total, len(ex.works))

	stored := map[string]bool{}
	if err := arts.Walk(ctx, func(p string, _ int64) error {
		stored[p] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	temps, err := arts.Temps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pass(len(temps) == 0, "%d temp files left: %v", len(temps), temps)

	// allowed full downloads per winning URL (host + request URI).
	allowed := map[string]int{}
	size := map[string]int64{}
	var lost, notTerminal, badFinalize, wrongTruth, twoArtifacts, missing int
	for _, sw := range ex.works {
		w, err := fulltext.ParseWork(sw.Input)
		if err != nil {
			t.Fatalf("world input %q: %v", sw.Input, err)
		}
		j, err := st.Get(ctx, w.ID)
		if err != nil {
			lost++
			continue
		}
		if !j.State.Terminal() {
			notTerminal++
		}
		finalized := j.State == fulltext.StateFinalized || j.State == fulltext.StateDeduped || j.State == fulltext.StateIndexed
		rows, err := st.Ledger(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		var fin []fulltext.LedgerEntry
		for _, r := range rows {
			if r.Op == fulltext.OpFinalize && r.Status == fulltext.OpCompleted {
				fin = append(fin, r)
			}
		}
		switch {
		case finalized && (len(fin) != 1 || fin[0].Epoch != j.Epoch):
			badFinalize++
			t.Logf("%s: %s with FINALIZE rows %+v at epoch %d", ex.scenario, w.ID, fin, j.Epoch)
		case !finalized && len(fin) != 0:
			badFinalize++
			t.Logf("%s: %s %s with FINALIZE rows %+v", ex.scenario, w.ID, j.State, fin)
		}
		n := 0
		for _, k := range []fulltext.Kind{fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML} {
			p := fulltext.ArtifactPath(j.Work.ID, k)
			if stored[p] {
				n++
				delete(stored, p)
			}
		}
		if n > 1 {
			twoArtifacts++
		}
		if finalized {
			if j.Result == nil || n != 1 {
				missing++
			} else if u, err := url.Parse(j.Result.URL); err == nil {
				k := hostOnly(u.Host) + " " + u.RequestURI()
				allowed[k] += 1 + ex.interrupted[w.ID.String()]
				size[k] = j.Result.Bytes
			}
		}
		if j.Code == fulltext.CodeOKExisting && sw.Want != fulltext.CodeOKExisting {
			h.sum.okExisting++ // a replay found its own bytes already committed
		}
		if ex.truth && j.Outcome != sw.Want.Outcome() {
			wrongTruth++
			t.Logf("%s: %s (%s) ended %s %s, the world says %s", ex.scenario, w.ID, sw.Route, j.Outcome, j.Code, sw.Want)
		}
	}
	pass(lost == 0, "%d works lost (no job)", lost)
	pass(notTerminal == 0, "%d works not terminal after the clean run", notTerminal)
	pass(badFinalize == 0, "%d works with a wrong number of FINALIZE rows", badFinalize)
	pass(twoArtifacts == 0, "%d works with two artifacts", twoArtifacts)
	pass(missing == 0, "%d finalized works without their artifact", missing)
	pass(len(stored) == 0, "%d artifacts no job refers to: %v", len(stored), keys(stored))
	if ex.truth {
		pass(wrongTruth == 0, "%d works ended with another outcome than the world's", wrongTruth)
	}

	// Complete downloads of each winning URL, from the simulator's
	// request log: a transfer cut by a crash is not counted, a transfer
	// completed before a crash is (and is allowed by the interruption).
	got := map[string]int{}
	for _, r := range h.sim.Requests() {
		k := hostOnly(r.Host) + " " + r.Path
		if r.Method == "GET" && r.Status == 200 && r.BytesSent == size[k] {
			got[k]++
		}
	}
	over := 0
	for k, n := range allowed {
		if got[k] > n {
			over++
			t.Logf("%s: %s downloaded %d times, at most %d allowed", ex.scenario, k, got[k], n)
		}
	}
	pass(over == 0, "%d winning URLs downloaded more than once per claim cut short", over)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
		if len(out) == 10 {
			break
		}
	}
	return out
}

// outDir returns a fresh output directory for a scenario.
func (h *harness) outDir(name string) string {
	return filepath.Join(h.dir, name)
}
