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
	srv, err := simweb.New(simweb.Config{Works: works, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sim.toml")
	if err := os.WriteFile(conf, []byte(demoConfig()), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--ca-file", ca, "--config", conf}
	for _, ct := range srv.ConnectTo() {
		flags = append(flags, "--connect-to", ct)
	}
	return &simEnv{srv: srv, dir: dir, flags: flags}
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
