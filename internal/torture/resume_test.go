//go:build unix

package torture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// crashResume pulls sc.resumeWorks bulk PDFs of sc.resumeBytes each (several
// checkpoints apiece at the default 8 MiB interval), SIGKILLs the pull right
// after a random checkpoint (failpoint after-checkpoint), garbles the temps
// with the power-loss model half the time, and pulls again. The restart
// must continue every checkpointed transfer with one Range request from
// its checkpoint (206, exactly the rest sent), never from byte zero, and
// end with every work stored with the right SHA-256, nothing left in tmp.
func (h *harness) crashResume(sc scale) {
	t := h.t
	var works []bulkWork
	var lines strings.Builder
	for i := range sc.resumeWorks {
		id := fmt.Sprintf("W%d", 7_100_000_000+i)
		u := simweb.BulkURL("http", sc.resumeBytes, id)
		works = append(works, bulkWork{id: id, url: u, sha: h.bulkSHA256(u)})
		fmt.Fprintf(&lines, `{"id":"https://openalex.org/%s","title":"Bulk work %d","publication_year":2024,`+
			`"open_access":{"is_oa":true,"oa_status":"green"},"best_oa_location":{"is_oa":true,"pdf_url":%q,"version":"publishedVersion"}}`+"\n",
			id, i, u)
	}
	in := filepath.Join(h.dir, "resume.jsonl")
	if err := os.WriteFile(in, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	perFile := int((sc.resumeBytes - 1) / (8 << 20))
	env := []string{"OAFETCH_JOBS_LEASE_TTL=" + killTTL}
	for round := range sc.resumeRounds {
		out := h.outDir(fmt.Sprintf("resume-%d", round))
		args := append([]string{"pull", "--input", in, "--out", out, "--workers", "4"}, h.flags...)
		h.sim.ResetRequests()
		// Checkpoints run beside the stream, one at a time per body: one due
		// while the previous still runs is skipped, so fewer than perFile
		// per file may happen. Half of them surely do.
		nth := 1 + h.rng.IntN(max(1, sc.resumeWorks*perFile/2))
		p := h.start(append([]string{failpoint.EnvVar + fmt.Sprintf("=after-checkpoint:kill@%d", nth)}, env...), args...)
		code, sig := p.result(t, 5*time.Minute)
		if sig != syscall.SIGKILL {
			t.Fatalf("resume round %d: pull with after-checkpoint:kill@%d ended %d (signal %v), want killed\nstderr:\n%s",
				round, nth, code, sig, tail(p.stderr.String()))
		}
		h.sum.kills++
		h.sum.failpointKills++
		h.sum.byPoint["after-checkpoint"]++
		h.noteLogs(p)
		// What the crash left: the checkpoints (fsynced, so a power loss
		// keeps them too).
		ckpts := map[string]checkpoint{} // url → last checkpoint
		tmp := filepath.Join(out, ".oafetch", "tmp")
		names, _ := filepath.Glob(filepath.Join(tmp, "*.ckpt"))
		for _, n := range names {
			if c, ok := readCheckpoint(n); ok {
				ckpts[c.URL] = c
			}
		}
		if len(ckpts) == 0 {
			t.Fatalf("resume round %d: killed after checkpoint %d, but no checkpoint sidecar in %s", round, nth, tmp)
		}
		if h.rng.IntN(2) == 0 {
			h.garbleTemps(out)
		}

		h.sim.ResetRequests()
		restarted := time.Now()
		h.run(env, args...)
		resumed := 0
		for _, r := range h.sim.Requests() {
			// The killed process's requests are logged when the simulator
			// notices their connection is gone, maybe after the reset.
			if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/bulk/") || r.At.Before(restarted) {
				continue
			}
			u := "http://" + simweb.BulkHost + r.Path
			c, had := ckpts[u]
			rng := r.Header.Get("Range")
			switch {
			case had && rng == fmt.Sprintf("bytes=%d-", c.Offset) && r.Status == http.StatusPartialContent && r.BytesSent == c.Total-c.Offset:
				resumed++
				h.sum.resumed++
				h.sum.resumedBytes += c.Offset
				delete(ckpts, u)
			case had:
				t.Errorf("resume round %d: %s checkpointed at %d, fetched again with Range %q: %d, %d bytes", round, u, c.Offset, rng, r.Status, r.BytesSent)
			case rng != "":
				t.Errorf("resume round %d: %s without a checkpoint asked Range %q", round, u, rng)
			}
		}
		for u, c := range ckpts {
			t.Errorf("resume round %d: %s checkpointed at %d of %d was not fetched again", round, u, c.Offset, c.Total)
		}
		h.checkBulk(out, works)
		t.Logf("resume round %d: killed after checkpoint %d, %d transfers resumed", round, nth, resumed)
	}
}

// bulkWork is a work of crashResume: its OpenAlex id, its PDF's URL on
// the bulk host and that PDF's SHA-256.
type bulkWork struct {
	id, url, sha string
}

// bulkSHA256 downloads u from the simulator and returns its SHA-256: the
// truth the stored files are checked against.
func (h *harness) bulkSHA256(u string) string {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.sim.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// checkBulk checks a crashResume round's store: every work FINALIZED
// ok-pdf with the right SHA-256 on disk, `oafetch verify` clean, nothing
// left in the temp directory (no temp, sidecar or kept prefix).
func (h *harness) checkBulk(out string, works []bulkWork) {
	t := h.t
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	h.sum.scenarios++
	v := h.start(nil, "verify", "--out", out)
	if code, _ := v.result(t, 5*time.Minute); code != 0 {
		t.Errorf("verify exit %d:\n%s", code, tail(v.stdout.String()))
	} else {
		h.sum.invariants++
	}
	st := h.openStore(out)
	defer func() { _ = st.Close() }()
	arts, err := filestore.Open(out, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer arts.Close()
	for _, w := range works {
		id, err := fulltext.ParseID(w.id)
		if err != nil {
			t.Fatal(err)
		}
		j, err := st.Get(ctx, id)
		if err != nil || j.State != fulltext.StateFinalized || j.Result == nil {
			t.Errorf("%s: %+v %v, want FINALIZED", w.id, j, err)
			continue
		}
		rc, err := arts.Open(ctx, j.Result.Path)
		if err != nil {
			t.Errorf("%s: %v", w.id, err)
			continue
		}
		sum := sha256.New()
		_, err = io.Copy(sum, rc)
		_ = rc.Close()
		if got := hex.EncodeToString(sum.Sum(nil)); err != nil || got != w.sha || j.Result.SHA256 != w.sha {
			t.Errorf("%s: stored sha256 %s (recorded %s), want %s (%v)", w.id, got, j.Result.SHA256, w.sha, err)
			continue
		}
		h.sum.invariants++
	}
	left, err := os.ReadDir(filepath.Join(out, ".oafetch", "tmp"))
	if err != nil || len(left) != 0 {
		t.Errorf("left in tmp: %v %v", left, err)
	} else {
		h.sum.invariants++
	}
}
