package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullRefresh: a re-run with --refresh asks every finalized work's
// stored URL conditionally; the simulated web answers 304, no body is
// transferred, no source is asked, and each work ends ok-existing with
// the same file.
func TestPullRefresh(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 14)
	out := filepath.Join(sim.dir, "out")
	var input strings.Builder
	for _, w := range sim.srv.World().Works {
		input.WriteString(w.Input + "\n")
	}
	ids := filepath.Join(sim.dir, "ids.txt")
	if err := os.WriteFile(ids, []byte(input.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "4", "-q"}, sim.flags...)
	if code, stdout, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, exp, _ := oafetch(t, "", "export", "--out", out)
	before := readExport(t, exp)
	ok := 0
	for _, r := range before {
		if r.Outcome != nil && *r.Outcome == "ok" {
			ok++
		}
	}
	if ok == 0 {
		t.Fatal("no work finalized by the first pull")
	}

	sim.srv.ResetRequests()
	code, stdout, stderr := oafetch(t, "", append(args, "--refresh")...)
	if code != exitOK {
		t.Fatalf("refresh exit %d\n%s\n%s", code, stdout, stderr)
	}
	if want := fmt.Sprintf("refresh: %d finalized works", ok); !strings.Contains(stdout, want) {
		t.Errorf("stdout does not say %q:\n%s", want, stdout)
	}
	conditional := 0
	for _, r := range sim.srv.Requests() {
		if r.Path == "/robots.txt" {
			continue
		}
		if r.Header.Get("If-None-Match") == "" || r.Status != 304 || r.BytesSent != 0 {
			t.Errorf("refresh sent %s %s%s (If-None-Match %q) → %d, %d bytes; want only conditional requests answered 304",
				r.Method, r.Host, r.Path, r.Header.Get("If-None-Match"), r.Status, r.BytesSent)
			continue
		}
		conditional++
	}
	if conditional != ok {
		t.Errorf("%d conditional requests, want one per finalized work (%d)", conditional, ok)
	}
	_, exp, _ = oafetch(t, "", "export", "--out", out)
	after := readExport(t, exp)
	for id, b := range before {
		a := after[id]
		if b.Outcome == nil || *b.Outcome != "ok" {
			if deref(a.Code) != deref(b.Code) {
				t.Errorf("%s: a failed work changed from %s to %s", id, deref(b.Code), deref(a.Code))
			}
			continue
		}
		if deref(a.Code) != "ok-existing" || deref(a.Path) != deref(b.Path) || deref(a.SHA256) != deref(b.SHA256) {
			t.Errorf("%s: after refresh code %s path %s sha %s; before %s %s %s", id,
				deref(a.Code), deref(a.Path), deref(a.SHA256), deref(b.Code), deref(b.Path), deref(b.SHA256))
		}
		if _, err := os.Stat(filepath.Join(out, deref(a.Path))); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
