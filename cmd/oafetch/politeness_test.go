package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/simweb"
)

// writeInputs writes the world's works of the given routes (all when none)
// to an input file and returns its path and the works.
func writeInputs(t *testing.T, sim *simEnv, routes ...simweb.Route) (string, []simweb.Work) {
	t.Helper()
	var b strings.Builder
	var picked []simweb.Work
	for _, w := range sim.srv.World().Works {
		if len(routes) > 0 && !slices.Contains(routes, w.Route) {
			continue
		}
		picked = append(picked, w)
		b.WriteString(w.Input + "\n")
	}
	if len(picked) == 0 {
		t.Fatalf("the world has no work of routes %v", routes)
	}
	path := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, picked
}

func mustExport(t *testing.T, out string) map[string]exportRecord {
	t.Helper()
	code, exp, stderr := oafetch(t, "", "export", "--out", out)
	if code != exitOK {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	return readExport(t, exp)
}

func whyAttempts(t *testing.T, out, id string) []fulltext.Attempt {
	t.Helper()
	code, stdout, stderr := oafetch(t, "", "why", id, "--json", "--out", out)
	if code != exitOK {
		t.Fatalf("why %s exit %d: %s", id, code, stderr)
	}
	var rep whyReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("why --json: %v\n%s", err, stdout)
	}
	return rep.Attempts
}

func workID(t *testing.T, w simweb.Work) string {
	t.Helper()
	pw, err := fulltext.ParseWork(w.Input)
	if err != nil {
		t.Fatalf("world input %q: %v", w.Input, err)
	}
	return pw.ID.String()
}

// fetched counts the attempts that sent a request for a candidate (not
// source lookups, not candidates refused before any request).
func fetched(atts []fulltext.Attempt) int {
	n := 0
	for _, a := range atts {
		if a.Technique != "lookup" && a.Code != fulltext.CodeBudgetExhausted && a.HTTPStatus != 0 {
			n++
		}
	}
	return n
}

// --fallback-max-attempts N: a work whose full text is behind a landing
// page (two fetches) ends budget-exhausted after exactly one fetch.
func TestBudgetMaxAttemptsEndsWorks(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 60)
	ids, works := writeInputs(t, sim, simweb.RouteLanding)
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"pull", "--input", ids, "--out", out, "-q", "--workers", "4",
		"--fallback-max-attempts", "1"}, sim.flags...)
	if code, stdout, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	recs := mustExport(t, out)
	for _, w := range works {
		id := workID(t, w)
		r := recs[id]
		if r.Code == nil || *r.Code != string(fulltext.CodeBudgetExhausted) || r.State != string(fulltext.StateFailed) {
			t.Errorf("%s (%s): state %s code %s, want FAILED budget-exhausted", id, w.Route, r.State, deref(r.Code))
			continue
		}
		atts := whyAttempts(t, out, id)
		if n := fetched(atts); n != 1 {
			t.Errorf("%s: %d fetches, want exactly the budget of 1: %+v", id, n, atts)
		}
		if !slices.ContainsFunc(atts, func(a fulltext.Attempt) bool {
			return a.Code == fulltext.CodeBudgetExhausted && strings.Contains(a.Detail, "max attempts 1")
		}) {
			t.Errorf("%s: no budget-exhausted attempt names the limit: %+v", id, atts)
		}
	}
}

// --fallback-total-timeout-ms: when every response stalls, each work ends
// budget-exhausted once its time budget is spent, not much later.
func TestBudgetTotalTimeoutEndsWorks(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 20)
	ids, works := writeInputs(t, sim, simweb.RouteUnpaywall, simweb.RouteLanding)
	works = works[:min(len(works), 4)]
	var b strings.Builder
	for _, w := range works {
		b.WriteString(w.Input + "\n")
	}
	if err := os.WriteFile(ids, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sim.srv.SetFaults([]simweb.Fault{{Kind: simweb.FaultStall}})
	const budget = 400 * time.Millisecond
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"pull", "--input", ids, "--out", out, "-q", "--workers", "4",
		"--fallback-total-timeout-ms", "400"}, sim.flags...)
	start := time.Now()
	code, stdout, stderr := oafetch(t, "", args...)
	took := time.Since(start)
	if code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Four works on four workers in parallel: one budget each, plus the
	// store's work. Generous for a loaded CI machine, far below the 2m default.
	if took > budget+10*time.Second {
		t.Errorf("pull took %s with a %s budget per work", took, budget)
	}
	recs := mustExport(t, out)
	for _, w := range works {
		id := workID(t, w)
		r := recs[id]
		if r.Code == nil || *r.Code != string(fulltext.CodeBudgetExhausted) || r.State != string(fulltext.StateFailed) {
			t.Errorf("%s (%s): state %s code %s, want FAILED budget-exhausted\n%+v", id, w.Route, r.State, deref(r.Code), whyAttempts(t, out, id))
		}
	}
}

// An operator pause written by `oafetch hosts pause` holds every worker
// off the host from the run's first request: requests to a paused host fail
// fast with rate-limited, the jobs wait for the pause's end (not_before),
// and then finish normally.
func TestHostsPauseHonouredByPull(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 30)
	// Works found in the first tier, and only that tier, so that the hosts
	// a first pull uses are the hosts the paused pull would use.
	ids, works := writeInputs(t, sim, simweb.RouteUnpaywall, simweb.RouteOpenAlex, simweb.RouteArXiv)
	flags := append([]string{"--fallback-tier", "direct_oa:parallel=5", "-q", "--workers", "4"}, sim.flags...)

	// A first pull into another store learns which hosts these works use.
	probe := filepath.Join(t.TempDir(), "probe")
	if code, _, stderr := oafetch(t, "", append([]string{"pull", "--input", ids, "--out", probe}, flags...)...); code != exitOK {
		t.Fatalf("probe pull exit %d: %s", code, stderr)
	}
	hosts := map[string]bool{}
	for _, r := range sim.srv.Requests() {
		hosts[r.Host] = true
	}
	sim.srv.ResetRequests()

	out := filepath.Join(t.TempDir(), "out")
	// One command pauses them all, right before the pull (a few seconds:
	// the pull waits them out; `hosts --json` listing is TestHostsCommand's).
	pauseArgs := []string{"hosts", "pause", "--for", "4s", "--out", out}
	for h := range hosts {
		pauseArgs = append(pauseArgs, h)
	}
	code, stdout, stderr := oafetch(t, "", pauseArgs...)
	if code != exitOK {
		t.Fatalf("hosts pause exit %d: %s", code, stderr)
	}
	var until time.Time
	for line := range strings.Lines(stdout) {
		_, ts, _ := strings.Cut(strings.TrimSpace(line), " paused until ")
		u, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			t.Fatalf("hosts pause printed %q", line)
		}
		if u.After(until) {
			until = u
		}
	}
	args := append([]string{"pull", "--input", ids, "--out", out}, flags...)
	if code, stdout, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	reqs := sim.srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request after the pause ended")
	}
	for _, r := range reqs {
		if r.At.Before(until) {
			t.Errorf("request to paused host %s at %s, before the pause's end %s", r.Host, r.At.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
		}
	}
	recs := mustExport(t, out)
	for _, w := range works {
		id := workID(t, w)
		r := recs[id]
		if r.Code == nil || fulltext.Code(*r.Code) != w.Want || r.Attempts < 2 {
			t.Errorf("%s: code %s after %d claims, want %s after a rate-limited first claim", id, deref(r.Code), r.Attempts, w.Want)
			continue
		}
		atts := whyAttempts(t, out, id)
		if !slices.ContainsFunc(atts, func(a fulltext.Attempt) bool {
			return a.Code == fulltext.CodeRateLimited && strings.Contains(a.Detail, "paused until")
		}) {
			t.Errorf("%s: no attempt was stopped by the pause: %+v", id, atts)
		}
	}
	// After the run the workers' states are in the store.
	code, stdout, stderr = oafetch(t, "", "hosts", "--json", "--out", out)
	if code != exitOK {
		t.Fatalf("hosts --json exit %d: %s", code, stderr)
	}
	var rows []hostRow
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("hosts --json: %v", err)
	}
	published := 0
	for _, r := range rows {
		if hosts[r.Host] && r.State != nil && r.State.Breaker == string(hostpolicy.BreakerClosed) {
			published++
		}
	}
	if published != len(hosts) {
		t.Errorf("hosts --json has a published state for %d of the %d hosts used", published, len(hosts))
	}
}

func TestHostsCommand(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"pause", []string{"hosts", "pause", "API.Example.ORG.", "--for", "1h"}, exitOK, "api.example.org paused until", ""},
		{"pause several", []string{"hosts", "pause", "a.example.org", "b.example.org", "--for", "1h"}, exitOK, "b.example.org paused until", ""},
		{"listed", []string{"hosts"}, exitOK, "api.example.org", ""},
		{"built-in budgets listed", []string{"hosts"}, exitOK, "1/3s", ""},
		{"resume", []string{"hosts", "resume", "api.example.org"}, exitOK, "api.example.org resumed", ""},
		{"pause needs a host", []string{"hosts", "pause"}, exitUsage, "", "requires at least 1 arg"},
		{"pause bad duration", []string{"hosts", "pause", "x.org", "--for", "-1s"}, exitUsage, "", "--for"},
		{"pause not a host", []string{"hosts", "pause", "https://x.org/a"}, exitUsage, "", "want a host name"},
	}
	for _, tt := range tests { // in order: they share the store
		args := append(tt.args, "--out", out)
		code, stdout, stderr := oafetch(t, "", args...)
		if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", tt.name, code, tt.code, stdout, tt.stdout, stderr, tt.stderr)
		}
	}
	code, stdout, _ := oafetch(t, "", "hosts", "--json", "--out", out)
	var rows []hostRow
	if err := json.Unmarshal([]byte(stdout), &rows); code != exitOK || err != nil {
		t.Fatalf("hosts --json: exit %d, %v", code, err)
	}
	for _, r := range rows {
		if r.Host == "api.example.org" && r.PausedUntil != nil {
			t.Errorf("api.example.org still paused after resume: %v", r.PausedUntil)
		}
	}
}

// A challenge wall routes the rest of the run around its host: of all the
// works whose copy sits behind the wall (reached through doi.org
// redirects), only the first knocks; the others end blocked-challenge
// without a request to the host.
func TestChallengeWallRoutesTheRunAroundTheHost(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 80)
	ids, works := writeInputs(t, sim, simweb.RouteChallenge)
	if len(works) < 2 {
		t.Fatalf("the world has %d challenge works, want ≥ 2", len(works))
	}
	out := filepath.Join(t.TempDir(), "out")
	// One worker: works run one after another, so the first wall is known
	// before the next work starts.
	args := append([]string{"pull", "--input", ids, "--out", out, "-q", "--workers", "1"}, sim.flags...)
	if code, stdout, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	walled := map[string]int{}
	for _, r := range sim.srv.Requests() {
		if r.Path != "/robots.txt" {
			walled[r.Host]++
		}
	}
	if n := walled["shield.example.com"]; n != 1 {
		t.Errorf("%d requests to the walled host for %d works, want 1", n, len(works))
	}
	recs := mustExport(t, out)
	for _, w := range works {
		id := workID(t, w)
		if r := recs[id]; r.Code == nil || fulltext.Code(*r.Code) != fulltext.CodeBlockedChallenge {
			t.Errorf("%s: code %s, want blocked-challenge", id, deref(recs[id].Code))
		}
	}
}
