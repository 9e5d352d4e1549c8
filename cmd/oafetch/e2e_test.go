package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// simEnv is a simulated web started for one test, with the flags that point
// oafetch at it.
type simEnv struct {
	srv   *simweb.Server
	dir   string
	flags []string
}

func startSim(t *testing.T, works int) *simEnv {
	t.Helper()
	return startSimConfig(t, simweb.Config{Works: works, Seed: 7})
}

// oafetch runs the command line in-process and returns its exit code and
// output.
func oafetch(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, []string{"HOME=" + t.TempDir()})
	return code, out.String(), errb.String()
}

func readExport(t *testing.T, out string) map[string]exportRecord {
	t.Helper()
	recs := map[string]exportRecord{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r exportRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		recs[r.WorkID] = r
	}
	return recs
}

func TestPullAgainstSimweb(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 60)
	out := filepath.Join(sim.dir, "out")
	var input strings.Builder
	input.WriteString("# a comment, then garbage lines that must be reported and skipped\n")
	for i, w := range sim.srv.World().Works {
		input.WriteString(w.Input + "\n")
		if i == 5 {
			input.WriteString("not-an-identifier\n12345\n")
		}
	}
	ids := filepath.Join(sim.dir, "ids.txt")
	if err := os.WriteFile(ids, []byte(input.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "8", "-q"}, sim.flags...)
	code, stdout, stderr := oafetch(t, "", args...)
	if code != exitOK {
		t.Fatalf("pull exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"ids.txt:8: skipped", "ids.txt:9: skipped"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not report %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "2 bad lines skipped") {
		t.Errorf("summary does not count the bad lines:\n%s", stdout)
	}

	code, exp, stderr := oafetch(t, "", "export", "--out", out)
	if code != exitOK {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	recs := readExport(t, exp)
	world := sim.srv.World().Works
	if len(recs) != len(world) {
		t.Errorf("export has %d records, want one per work (%d)", len(recs), len(world))
	}
	for _, w := range world {
		id, err := fulltext.ParseWork(w.Input)
		if err != nil {
			t.Fatalf("world input %q: %v", w.Input, err)
		}
		r, ok := recs[id.ID.String()]
		if !ok {
			t.Errorf("%s: no export record", id.ID)
			continue
		}
		if r.Code == nil || fulltext.Code(*r.Code) != w.Want {
			t.Errorf("%s (%s): code %s, want %s", id.ID, w.Route, deref(r.Code), w.Want)
			continue
		}
		if w.Want.Outcome() != fulltext.OutcomeOK {
			if r.Path != nil {
				t.Errorf("%s: a %s work has a path", id.ID, w.Want)
			}
			continue
		}
		if r.Source == nil || !wantsSource(w, *r.Source) {
			t.Errorf("%s (%s): won by %s, want %s or %v", id.ID, w.Route, deref(r.Source), w.WantSource, w.AltSources)
		}
		if r.Path == nil || r.SHA256 == nil || r.Bytes == nil {
			t.Errorf("%s: ok without path/sha256/bytes: %+v", id.ID, r)
			continue
		}
		data, err := os.ReadFile(filepath.Join(out, *r.Path))
		if err != nil {
			t.Errorf("%s: path does not open: %v", id.ID, err)
			continue
		}
		if !bytes.HasPrefix(bytes.TrimLeft(data, "\xef\xbb\xbf \r\n\t"), []byte("%PDF-")) || int64(len(data)) != *r.Bytes {
			t.Errorf("%s: saved file is not the %d-byte PDF", id.ID, *r.Bytes)
		}
	}

	// The same pull again creates no job and sends no request.
	sim.srv.ResetRequests()
	code, stdout, stderr = oafetch(t, "", args...)
	if code != exitOK {
		t.Fatalf("second pull exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "0 new") {
		t.Errorf("second pull planned new jobs:\n%s", stdout)
	}
	if n := len(sim.srv.Requests()); n != 0 {
		t.Errorf("second pull sent %d requests, want 0", n)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[jobs]\nlease_tll = \"5s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", []string{"status", "--nope"}, exitUsage, "--nope"},
		{"bad config key", []string{"status", "--out", dir, "--config", bad}, exitUsage, "bad.toml:2"},
		{"bad format", []string{"export", "--out", dir, "--format", "xml"}, exitUsage, "--format"},
		{"why unknown", []string{"why", "10.5555/none", "--out", dir}, exitUsage, "not in the job store"},
		{"retry needs a code", []string{"retry", "--out", dir}, exitUsage, "--code"},
		{"retry bad code", []string{"retry", "--out", dir, "--code", "ok-maybe"}, exitUsage, "ok-maybe"},
		{"bad tier", []string{"pull", "--out", dir, "--fallback-tier", "nope"}, exitUsage, "unknown tier"},
		{"version", []string{"version"}, exitOK, ""},
		{"empty status", []string{"status", "--out", dir}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := oafetch(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tt.code, stderr, tt.msg, stdout)
			}
		})
	}
}

func TestStoreCommandsAfterPull(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 24)
	out := filepath.Join(sim.dir, "out")
	var ids []string
	var okWork, wallWork simweb.Work
	for _, w := range sim.srv.World().Works {
		ids = append(ids, w.Input)
		if w.Want == fulltext.CodeOKPDF && okWork.Input == "" && w.Route != simweb.RouteCast {
			okWork = w
		}
		if w.Want.Outcome() == fulltext.OutcomeBlocked && wallWork.Input == "" {
			wallWork = w
		}
	}
	args := append(append([]string{"pull", "--out", out, "-q"}, ids...), sim.flags...)
	if code, _, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull: exit %d: %s", code, stderr)
	}

	code, stdout, _ := oafetch(t, "", "status", "--out", out, "--json")
	var st fulltext.Stats
	if code != exitOK || json.Unmarshal([]byte(stdout), &st) != nil || st.Total != len(ids) {
		t.Errorf("status --json: exit %d, %q", code, stdout)
	}
	code, stdout, _ = oafetch(t, "", "export", "--out", out, "--format", "csv")
	if lines := strings.Count(stdout, "\n"); code != exitOK || lines != len(ids)+1 || !strings.HasPrefix(stdout, strings.Join(csvHeader, ",")) {
		t.Errorf("export csv: exit %d, %d lines", code, lines)
	}
	code, stdout, _ = oafetch(t, "", "why", okWork.Input, "--out", out)
	if code != exitOK || !strings.Contains(stdout, "ok-pdf") || !strings.Contains(stdout, "lookup") || !strings.Contains(stdout, "FINALIZE") {
		t.Errorf("why %s: exit %d:\n%s", okWork.Input, code, stdout)
	}
	code, stdout, _ = oafetch(t, "", "why", wallWork.Input, "--out", out, "--json")
	var rep whyReport
	if code != exitOK || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Record.Code == nil || *rep.Record.Code != string(wallWork.Want) || len(rep.Attempts) == 0 {
		t.Errorf("why --json %s: exit %d:\n%s", wallWork.Input, code, stdout)
	}

	// verify: clean, then a corrupted artifact is found and repaired by re-planning.
	if code, stdout, _ = oafetch(t, "", "verify", "--out", out); code != exitOK {
		t.Fatalf("verify on a clean store: exit %d: %s", code, stdout)
	}
	w, _ := fulltext.ParseWork(okWork.Input)
	_, exp, _ := oafetch(t, "", "export", "--out", out)
	rec := readExport(t, exp)[w.ID.String()]
	if err := os.Remove(filepath.Join(out, *rec.Path)); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ = oafetch(t, "", "verify", "--out", out); code != exitFailed || !strings.Contains(stdout, "missing") {
		t.Errorf("verify with a missing artifact: exit %d (want 1):\n%s", code, stdout)
	}
	if code, stdout, _ = oafetch(t, "", "verify", "--out", out, "--repair"); code != exitOK {
		t.Errorf("verify --repair: exit %d:\n%s", code, stdout)
	}
	if code, _, stderr := oafetch(t, "", append([]string{"work", "--out", out, "-q"}, sim.flags...)...); code != exitOK {
		t.Fatalf("work after repair: exit %d: %s", code, stderr)
	}
	if code, stdout, _ = oafetch(t, "", "verify", "--out", out); code != exitOK {
		t.Errorf("verify after re-fetch: exit %d:\n%s", code, stdout)
	}

	// retry re-plans the walls; work fetches them again with the same verdict.
	code, stdout, _ = oafetch(t, "", "retry", "--out", out, "--code", string(wallWork.Want))
	if code != exitOK || !strings.Contains(stdout, "re-planned") || strings.Contains(stdout, "re-planned 0 ") {
		t.Errorf("retry: exit %d: %s", code, stdout)
	}
}

func TestGetAndExtract(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 12)
	var okWork simweb.Work
	for _, w := range sim.srv.World().Works {
		if w.Want == fulltext.CodeOKPDF && w.Route != simweb.RouteCast {
			okWork = w
			break
		}
	}
	dst := filepath.Join(t.TempDir(), "paper.pdf")
	code, stdout, stderr := oafetch(t, "", append([]string{"get", okWork.Input, "-o", dst}, sim.flags...)...)
	if code != exitOK || !strings.Contains(stdout, "ok-pdf") {
		t.Fatalf("get: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if data, err := os.ReadFile(dst); err != nil || !bytes.Equal(data, okWork.PDF()) {
		t.Errorf("get saved %d bytes (%v), want the work's PDF", len(data), err)
	}

	page := filepath.Join(t.TempDir(), "landing.html")
	html := `<html><head><meta name="citation_pdf_url" content="/files/a.pdf"><meta name="citation_doi" content="10.5555/x"></head><body>x</body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = oafetch(t, "", "extract", "--url", "https://pub.example.org/article/1", page)
	var res struct {
		Verdict string `json:"verdict"`
		Links   []struct{ URL, Technique string }
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &res) != nil || len(res.Links) == 0 || res.Links[0].URL != "https://pub.example.org/files/a.pdf" {
		t.Errorf("extract: exit %d: %s", code, stdout)
	}
	if code, _, _ = oafetch(t, html, "extract", "--url", "not a url", "-"); code != exitUsage {
		t.Errorf("extract with a bad --url: exit %d, want 2", code)
	}
}

func TestDryRunFetchesNothing(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 3+len(simweb.Routes())) // one work per route at least
	out := filepath.Join(sim.dir, "out")
	var input string
	for _, w := range sim.srv.World().Works {
		if w.Route == simweb.RouteUnpaywall {
			input = w.Input
			break
		}
	}
	code, stdout, stderr := oafetch(t, "", append([]string{"pull", input, "--dry-run", "--out", out}, sim.flags...)...)
	if code != exitOK || !strings.Contains(stdout, `"candidates":[{`) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res struct {
		Candidates []fulltext.Candidate `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Candidates) == 0 {
		t.Fatalf("dry run output %q: %v", stdout, err)
	}
	for _, c := range res.Candidates {
		for _, r := range sim.srv.Requests() {
			if "https://"+r.Host+r.Path == c.URL || "http://"+r.Host+r.Path == c.URL {
				t.Errorf("dry run fetched candidate %s", c.URL)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".oafetch", "jobs.sqlite")); err == nil {
		t.Error("dry run created a job store")
	}
}
