package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// startSimConfig is startSim with a whole simweb.Config.
func startSimConfig(t *testing.T, cfg simweb.Config) *simEnv {
	t.Helper()
	srv, err := simweb.New(cfg)
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

// listCursors returns the cursor of every OpenAlex /works list request in
// the simulator's log, in order.
func listCursors(t *testing.T, srv *simweb.Server) []string {
	t.Helper()
	var cursors []string
	for _, r := range srv.Requests() {
		if r.Host != "api.openalex.org" || !strings.HasPrefix(r.Path, "/works?") {
			continue
		}
		u, err := url.Parse(r.Path)
		if err != nil {
			t.Fatal(err)
		}
		cursors = append(cursors, u.Query().Get("cursor"))
	}
	return cursors
}

// TestPlanQueryResumesAfterCreditsExhausted pages a 5 000-work query
// through the cursor; the daily allowance runs out after 10 pages (2 000
// works): the run stops with exit 3, and the next "day" resumes from the
// saved cursor and stops at --max. Under the race detector the same story
// runs at a fifth of the scale (1 000 works, 2 pages).
func TestPlanQueryResumesAfterCreditsExhausted(t *testing.T) {
	t.Parallel()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("a 14 000-work world; run without -short")
	}
	maxWorks, pages, works := 5000, 10, 14000
	if raceEnabled {
		maxWorks, pages, works = 1000, 2, 2800
	}
	sim := startSimConfig(t, simweb.Config{Works: works, Seed: 7, OpenAlexCredits: pages})
	out := filepath.Join(sim.dir, "out")
	args := append([]string{"plan", "--openalex-filter", "publication_year:>1900", "--max", strconv.Itoa(maxWorks), "--out", out, "-q"}, sim.flags...)

	code, stdout, stderr := oafetch(t, "", args...)
	if code != exitInterrupted {
		t.Fatalf("first run: exit %d, want %d (paused)\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout, stderr)
	}
	first := 200 * pages
	if want := fmt.Sprintf("planned %d works: %d new", first, first); !strings.Contains(stdout, want) {
		t.Errorf("first run did not plan %d pages (%q):\n%s", pages, want, stdout)
	}
	if !strings.Contains(stderr, "daily allowance") {
		t.Errorf("the pause is not explained:\n%s", stderr)
	}
	cursors := listCursors(t, sim.srv)
	if len(cursors) != pages || cursors[0] != "*" {
		t.Fatalf("first run asked %d pages (cursors %q), want %d from *: it must stop before the refused call", len(cursors), cursors, pages)
	}
	for _, r := range sim.srv.Requests() {
		if r.Status == 429 {
			t.Fatalf("a call was refused (%s): the client must read X-RateLimit-Remaining and stop first", r.Path)
		}
	}

	// Run again while out of credits: nothing more, still paused.
	code, stdout, _ = oafetch(t, "", args...)
	if code != exitInterrupted || !strings.Contains(stdout, "planned 0 works") {
		t.Fatalf("run without credits: exit %d\n%s", code, stdout)
	}

	// A new day.
	sim.srv.SetOpenAlexCredits(1000)
	sim.srv.ResetRequests()
	code, stdout, stderr = oafetch(t, "", args...)
	if code != exitOK {
		t.Fatalf("resumed run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rest := maxWorks - first
	if want := fmt.Sprintf("planned %d works: %d new", rest, rest); !strings.Contains(stdout, want) {
		t.Errorf("resumed run did not plan the remaining %d works:\n%s", rest, stdout)
	}
	second := listCursors(t, sim.srv)
	if len(second) != rest/200 || second[0] == "*" {
		t.Errorf("resumed run asked %d pages from cursor %q; want %d from the saved cursor", len(second), second[0], rest/200)
	}

	// --max reached: a rerun asks nothing.
	sim.srv.ResetRequests()
	if code, stdout, _ := oafetch(t, "", args...); code != exitOK || !strings.Contains(stdout, "planned 0 works") || len(listCursors(t, sim.srv)) != 0 {
		t.Errorf("rerun after --max: exit %d, %d list calls\n%s", code, len(listCursors(t, sim.srv)), stdout)
	}
	code, st, _ := oafetch(t, "", "status", "--out", out)
	if code != exitOK || !strings.Contains(st, fmt.Sprintf("PLANNED  %d", maxWorks)) {
		t.Errorf("status does not show %d planned jobs:\n%s", maxWorks, st)
	}
}

// TestPullQueryPausedStillWorks: the allowance is already spent, so the
// query's first call is refused (the daily-allowance 429); pull still
// fetches the works given by id, and exits 3. The next day's run plans and
// fetches the query's works.
func TestPullQueryPausedStillWorks(t *testing.T) {
	t.Parallel()
	sim := startSimConfig(t, simweb.Config{Works: 200, Seed: 7, OpenAlexCredits: 1})
	sim.srv.SetOpenAlexCredits(0)
	out := filepath.Join(sim.dir, "out")
	cast := sim.srv.World().Works[:3]
	args := []string{"pull", "--openalex-filter", "publication_year:2001", "--out", out, "--workers", "8", "-q"}
	args = append(args, sim.flags...)
	code, stdout, stderr := oafetch(t, "", append(args, cast[0].Input, cast[1].Input, cast[2].Input)...)
	if code != exitInterrupted || !strings.Contains(stdout, "planned 3 works") || !strings.Contains(stderr, "daily allowance") {
		t.Fatalf("first run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "FINALIZED  3") {
		t.Errorf("the works given by id were not fetched:\n%s", stdout)
	}
	sim.srv.SetOpenAlexCredits(100)
	code, stdout, stderr = oafetch(t, "", args...)
	if code != exitOK || strings.Contains(stdout, "planned 0 works") {
		t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, st, _ := oafetch(t, "", "status", "--out", out)
	if code != exitOK || strings.Contains(st, "PLANNED") || strings.Contains(st, "works        3\n") {
		t.Errorf("status after both runs:\n%s", st)
	}
}

func TestPlanTopicByName(t *testing.T) {
	t.Parallel()
	sim := startSimConfig(t, simweb.Config{Works: 120, Seed: 7})
	out := filepath.Join(sim.dir, "out")
	args := append([]string{"plan", "--topic", "fault tolerance", "--year-start", "1990", "--out", out, "-q"}, sim.flags...)
	code, stdout, stderr := oafetch(t, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var topicSearches, lists int
	for _, r := range sim.srv.Requests() {
		u, err := url.Parse(r.Path)
		if err != nil || r.Host != "api.openalex.org" {
			continue
		}
		switch u.Path {
		case "/topics":
			topicSearches++
			if got := u.Query().Get("search"); got != "fault tolerance" {
				t.Errorf("topic search %q", got)
			}
		case "/works":
			lists++
			if got := u.Query().Get("filter"); got != "topics.id:T99902,publication_year:>1989" {
				t.Errorf("works filter %q, want the resolved topic id", got)
			}
		}
	}
	if topicSearches != 1 || lists == 0 {
		t.Fatalf("%d topic searches, %d list calls", topicSearches, lists)
	}
	if strings.Contains(stdout, "planned 0 works") {
		t.Errorf("the topic has works in this world:\n%s", stdout)
	}

	// An id goes through without a search; an unknown name is a usage error.
	sim.srv.ResetRequests()
	if code, _, stderr := oafetch(t, "", append([]string{"plan", "--topic", "https://openalex.org/T99902", "--out", out, "-q"}, sim.flags...)...); code != exitOK {
		t.Fatalf("topic id: exit %d: %s", code, stderr)
	}
	for _, r := range sim.srv.Requests() {
		if strings.HasPrefix(r.Path, "/topics") {
			t.Errorf("a topic id was searched: %s", r.Path)
		}
	}
	if code, _, stderr := oafetch(t, "", append([]string{"plan", "--topic", "alchemy", "--out", out, "-q"}, sim.flags...)...); code != exitUsage || !strings.Contains(stderr, "no topic matches") {
		t.Errorf("unknown topic: exit %d: %s", code, stderr)
	}
}

// TestWhyShowsProvenance: the version and licence a source states for the
// copy it found reach the attempt tree and the saved line of why.
func TestWhyShowsProvenance(t *testing.T) {
	t.Parallel()
	sim := startSimConfig(t, simweb.Config{Works: 3, Seed: 7})
	out := filepath.Join(sim.dir, "out")
	a := sim.srv.World().Works[0] // cast work A: OpenAlex states its location's version and licence
	code, stdout, stderr := oafetch(t, "", append([]string{"pull", a.Input, "--out", out, "-q"}, sim.flags...)...)
	if code != exitOK {
		t.Fatalf("pull: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, why, stderr := oafetch(t, "", "why", a.Input, "--out", out)
	if code != exitOK {
		t.Fatalf("why: exit %d: %s", code, stderr)
	}
	if !strings.Contains(why, "version=publishedVersion") || !strings.Contains(why, "license=cc-by") ||
		!strings.Contains(why, "provenance: version publishedVersion, license cc-by") {
		t.Errorf("why does not show the provenance:\n%s", why)
	}
	code, js, _ := oafetch(t, "", "why", a.Input, "--out", out, "--json")
	if code != exitOK || !strings.Contains(js, `"version": "publishedVersion"`) {
		t.Errorf("why --json has no version:\n%s", js)
	}
}

// apiAnswers counts the GET requests answered 200 by API hosts (the ones
// the metadata cache keeps).
func apiAnswers(srv *simweb.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Status == 200 && (strings.HasPrefix(r.Host, "api.") || r.Host == "export.arxiv.org" || r.Host == "www.ebi.ac.uk") {
			n++
		}
	}
	return n
}

// TestMetadataCacheSparesTheAPIs: a re-run of the same works (a fresh job
// store over the same --out) finds every API answer on disk; with
// --refresh-metadata it asks again. Both runs end as the world says.
func TestMetadataCacheSparesTheAPIs(t *testing.T) {
	t.Parallel()
	sim := startSimConfig(t, simweb.Config{Works: 3 + len(simweb.Routes()), Seed: 7})
	out := filepath.Join(sim.dir, "out")
	var ids strings.Builder
	for _, w := range sim.srv.World().Works {
		ids.WriteString(w.Input + "\n")
	}
	pull := func(db string, extra ...string) {
		t.Helper()
		args := append([]string{"pull", "--input", "-", "--out", out, "--db", filepath.Join(sim.dir, db), "--workers", "8", "-q"}, sim.flags...)
		code, stdout, stderr := oafetch(t, ids.String(), append(args, extra...)...)
		if code != exitOK {
			t.Fatalf("pull: exit %d\n%s\n%s", code, stdout, stderr)
		}
		code, exp, _ := oafetch(t, "", "export", "--out", out, "--db", filepath.Join(sim.dir, db))
		if code != exitOK {
			t.Fatalf("export: exit %d", code)
		}
		recs := readExport(t, exp)
		for _, w := range sim.srv.World().Works {
			wk, _ := fulltext.ParseWork(w.Input)
			r, ok := recs[wk.ID.String()]
			if ok && r.Code != nil && fulltext.Code(*r.Code) == fulltext.CodeOKExisting && w.Want.Outcome() == fulltext.OutcomeOK {
				continue // the file is already in --out
			}
			if !ok || r.Code == nil || fulltext.Code(*r.Code) != w.Want {
				t.Errorf("%s (%s, db %s): %s, want %s", w.Input, w.Route, db, deref(r.Code), w.Want)
			}
		}
	}
	pull("first.sqlite")
	first := apiAnswers(sim.srv)
	if first == 0 {
		t.Fatal("the first run asked no API")
	}
	if _, err := os.Stat(filepath.Join(out, ".oafetch", "metacache")); err != nil {
		t.Fatalf("no cache directory: %v", err)
	}
	sim.srv.ResetRequests()
	pull("second.sqlite")
	// A lookup cancelled mid-answer in the first run (another source of
	// its tier won first) was not kept and is asked again: a few.
	if again := apiAnswers(sim.srv); again*10 > first {
		t.Errorf("the re-run got %d API answers again out of %d; the cache should have had them", again, first)
	} else {
		t.Logf("API answers: %d, then %d", first, again)
	}
	sim.srv.ResetRequests()
	pull("third.sqlite", "--refresh-metadata")
	if apiAnswers(sim.srv) == 0 {
		t.Error("--refresh-metadata did not ask the APIs")
	}
}

// TestPlanQueryResumesAfterAKill is not parallel: it signals the test
// process itself. The query's third page stalls; a SIGINT stops the run
// (exit 3) with the pages that arrived planned and the next cursor saved;
// the next run resumes from that cursor and plans up to --max.
func TestPlanQueryResumesAfterAKill(t *testing.T) {
	sim := startSimConfig(t, simweb.Config{Works: 2800, Seed: 7})
	sim.srv.SetFaults([]simweb.Fault{{Host: "api.openalex.org", PathPrefix: "/works", Kind: simweb.FaultStall, After: 2}})
	out := filepath.Join(sim.dir, "out")
	args := append([]string{"plan", "--openalex-filter", "publication_year:>1900", "--max", "1000", "--out", out, "-q"}, sim.flags...)

	done := make(chan int, 1)
	var stdout, stderr strings.Builder
	go func() {
		done <- run(args, strings.NewReader(""), &stdout, &stderr, []string{"HOME=" + t.TempDir()})
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pages := 0
	if _, err := sim.srv.WaitRequest(ctx, func(r simweb.Request) bool {
		if r.Host == "api.openalex.org" && strings.HasPrefix(r.Path, "/works?") && r.Status == 200 {
			pages++
		}
		return pages == 2
	}); err != nil {
		t.Fatalf("two pages never arrived: %v\n%s", err, stderr.String())
	}
	// One signal stops paging, the stalled call included.
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Fatalf("exit %d, want 3 (interrupted)\n%s", code, stderr.String())
		}
	case <-ctx.Done():
		t.Fatal("plan did not stop after a SIGINT")
	}

	sim.srv.SetFaults(nil)
	sim.srv.ResetRequests()
	code, stdout2, stderr2 := oafetch(t, "", args...)
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout2, stderr2)
	}
	// Page 1 was planned before page 2 was asked; page 2 may or may not
	// have been planned when the signal came.
	var first int
	if _, err := fmt.Sscanf(stdout.String(), "planned %d works", &first); err != nil || (first != 200 && first != 400) {
		t.Fatalf("interrupted run planned %d works (%v), want 200 or 400:\n%s", first, err, stdout.String())
	}
	cursors := listCursors(t, sim.srv)
	if len(cursors) != (1000-first)/200 || cursors[0] == "*" {
		t.Errorf("resumed run asked pages %q; want %d from the saved cursor", cursors, (1000-first)/200)
	}
	if want := fmt.Sprintf("planned %d works: %d new", 1000-first, 1000-first); !strings.Contains(stdout2, want) {
		t.Errorf("resumed run, want %q:\n%s", want, stdout2)
	}
	code, st, _ := oafetch(t, "", "status", "--out", out)
	if code != exitOK || !strings.Contains(st, "PLANNED  1000") {
		t.Errorf("status:\n%s", st)
	}
}
