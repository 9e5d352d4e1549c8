package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/oafetch/oafetch/internal/simweb"
)

// A query pull with --metrics-addr: after the run, the scraped OpenAlex
// allowance is what simweb's last answer said (its X-RateLimit-* headers),
// and the configured per-work budgets are shown.
func TestPullQueryExportsAPICredits(t *testing.T) {
	t.Parallel()
	const limit = 25
	sim := startSimConfig(t, simweb.Config{Works: 40, Seed: 7, OpenAlexCredits: limit})
	out := filepath.Join(sim.dir, "out")
	var (
		url   string
		final map[string]*dto.MetricFamily
		opts  appOptions
	)
	opts.metricsServing = func(u string) { url = u }
	opts.workDone = func() { final = scrape(t, url) }
	var stdout, stderr bytes.Buffer
	args := append([]string{"pull", "--openalex-filter", "publication_year:>1900", "--out", out, "--workers", "4",
		"--metrics-addr", "127.0.0.1:0", "-q"}, sim.flags...)
	before := time.Now()
	if code := runWith(args, strings.NewReader(""), &stdout, &stderr, []string{"HOME=" + t.TempDir()}, opts); code != exitOK {
		t.Fatalf("pull exit %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if final == nil {
		t.Fatal("no scrape after the run")
	}
	left := sim.srv.OpenAlexCredits()
	if left >= limit {
		t.Fatalf("simweb has %d of %d credits left: the query spent none", left, limit)
	}
	api := map[string]string{"api": "openalex"}
	if _, ok := final["oafetch_api_credits_remaining"]; !ok {
		t.Fatal("oafetch_api_credits_remaining not exported after an OpenAlex query")
	}
	if got := sum(final, "oafetch_api_credits_remaining", api); got != float64(left) {
		t.Errorf(`oafetch_api_credits_remaining{api="openalex"} = %v, simweb's last answer said %d`, got, left)
	}
	if got := sum(final, "oafetch_api_credits_limit", api); got != limit {
		t.Errorf(`oafetch_api_credits_limit{api="openalex"} = %v, want %d`, got, limit)
	}
	// simweb renews the allowance at the next midnight UTC (of the run's
	// start or end, should the run straddle one).
	after := time.Now()
	got := sum(final, "oafetch_api_credits_reset_timestamp_seconds", api)
	near := func(at time.Time) bool {
		u := at.UTC()
		midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC).Unix()
		return got >= float64(midnight-60) && got <= float64(midnight+60)
	}
	if !near(before) && !near(after) {
		t.Errorf("reset timestamp %v, want the next midnight UTC", got)
	}
	// demoConfig keeps the default per-work budgets.
	for kind, want := range map[string]float64{"total_timeout_seconds": 120, "max_attempts": 20} {
		if got := sum(final, "oafetch_fallback_budget", map[string]string{"kind": kind}); got != want {
			t.Errorf("oafetch_fallback_budget{kind=%q} = %v, want %v", kind, got, want)
		}
	}
}
