package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/oafetch/oafetch/internal/simweb"
	"github.com/oafetch/oafetch/internal/telemetry"
)

// scrape fetches and parses one /metrics page.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("scrape: %v", err)
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("scrape: status %d", resp.StatusCode)
		return nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Errorf("scrape: parse: %v", err)
		return nil
	}
	return fams
}

// sum adds the values of every series of name whose labels include want.
func sum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func TestPullMetricsAddUpToTheExport(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 30)
	ids, works := writeInputs(t, sim)
	planned := len(works)
	out := filepath.Join(sim.dir, "out")

	var (
		mu      sync.Mutex
		during  []float64 // sum of outcomes at each scrape while running
		final   map[string]*dto.MetricFamily
		urlCh   = make(chan string, 1)
		stopped = make(chan struct{})
		scraped sync.WaitGroup
	)
	var stderr bytes.Buffer
	var opts appOptions
	opts.metricsServing = func(url string) { urlCh <- url }
	opts.workDone = func() {
		close(stopped)
		scraped.Wait()
		final = scrape(t, <-urlCh)
	}
	scraped.Add(1)
	go func() {
		defer scraped.Done()
		url := <-urlCh
		defer func() { urlCh <- url }()
		// Sample every 50 ms (a sampling period, not a synchronisation:
		// the first scrape is taken at once and the last one after the
		// workers stopped, whatever the timing).
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			fams := scrape(t, url)
			if fams == nil {
				return
			}
			mu.Lock()
			during = append(during, sum(fams, "oafetch_job_outcomes_total", nil))
			mu.Unlock()
			select {
			case <-stopped:
				return
			case <-tick.C:
			}
		}
	}()
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "4", "--metrics-addr", "127.0.0.1:0"}, sim.flags...)
	if code := runWith(args, strings.NewReader(""), io.Discard, &stderr, []string{"HOME=" + t.TempDir()}, opts); code != exitOK {
		t.Fatalf("pull exit %d:\n%s", code, stderr.String())
	}
	if final == nil {
		t.Fatal("no scrape after the run")
	}
	if len(during) == 0 {
		t.Fatal("no scrape while the run was going")
	}
	for i, v := range during {
		if v > float64(planned) || (i > 0 && v < during[i-1]) {
			t.Fatalf("outcomes while running went %v: must grow monotonically up to %d", during, planned)
		}
	}

	code, exp, errOut := oafetch(t, "", "export", "--out", out)
	if code != exitOK {
		t.Fatalf("export exit %d: %s", code, errOut)
	}
	recs := readExport(t, exp)
	if got := sum(final, "oafetch_job_outcomes_total", nil); got != float64(planned) || len(recs) != planned {
		t.Errorf("sum of outcomes %v, export %d records, want both %d (works planned)", got, len(recs), planned)
	}
	if got := sum(final, "oafetch_jobs_planned_total", map[string]string{"result": "created"}); got != float64(planned) {
		t.Errorf("jobs planned (created) %v, want %d", got, planned)
	}
	byCode, byState, bySource := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, r := range recs {
		byCode[deref(r.Code)]++
		byState[r.State]++
		if r.Outcome != nil && *r.Outcome == "ok" {
			bySource[deref(r.Source)]++
		}
	}
	for code, n := range byCode {
		if got := sum(final, "oafetch_job_outcomes_total", map[string]string{"code": code}); got != n {
			t.Errorf("outcomes{code=%s} = %v, export has %v", code, got, n)
		}
	}
	for src, n := range bySource {
		if got := sum(final, "oafetch_job_outcomes_total", map[string]string{"outcome": "ok", "source": src}); got != n {
			t.Errorf("ok outcomes{source=%s} = %v, export has %v", src, got, n)
		}
	}
	for state, n := range byState {
		if got := sum(final, "oafetch_jobs", map[string]string{"state": state}); got != n {
			t.Errorf("oafetch_jobs{state=%s} = %v, export has %v", state, got, n)
		}
	}
	if got := sum(final, "oafetch_http_in_flight_requests", nil); got != 0 {
		t.Errorf("requests in flight after the run: %v", got)
	}
	if sum(final, "oafetch_http_requests_total", nil) == 0 || sum(final, "oafetch_attempt_duration_seconds", nil) == 0 {
		t.Error("no HTTP request or attempt counted")
	}
	if got := sum(final, "oafetch_lease_acquire_seconds", nil); got < float64(planned) {
		t.Errorf("%v claims observed, want at least one per work (%d)", got, planned)
	}
	// Every work the doi source won came through a landing-page link.
	if got := sum(final, "oafetch_landing_links_total", map[string]string{"result": "ok"}); got < bySource["doi"] || got == 0 {
		t.Errorf("landing links won %v, want at least the %v works won by doi", got, bySource["doi"])
	}
	if got := sum(final, "oafetch_landing_links_total", map[string]string{"technique": "other"}); got != 0 {
		t.Errorf("%v landing links of an unknown technique; attempts %v", got, final["oafetch_landing_links_total"])
	}
	for name, f := range final {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || strings.HasPrefix(name, "promhttp_") {
			continue
		}
		if !strings.HasPrefix(name, "oafetch_") {
			t.Errorf("metric %s lacks the oafetch_ prefix", name)
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "/") || strings.Contains(l.GetValue(), "doi:") {
					t.Errorf("%s has an unbounded label value %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// The event log agrees with the metrics.
	types := map[telemetry.EventType]float64{}
	if _, err := telemetry.ReadEvents(filepath.Join(out, ".oafetch", "events.jsonl"), func(e telemetry.Event) error {
		types[e.Type]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if types[telemetry.EventJobPlanned] != float64(planned) {
		t.Errorf("%v job_planned events, want %d", types[telemetry.EventJobPlanned], planned)
	}
	if got, want := types[telemetry.EventAttempt], sum(final, "oafetch_attempts_total", nil); got != want {
		t.Errorf("%v attempt events, %v attempts counted", got, want)
	}
	if got, want := types[telemetry.EventJobLeased], sum(final, "oafetch_lease_acquire_seconds", nil); got != want {
		t.Errorf("%v job_leased events, %v claims observed", got, want)
	}
}

// report runs `oafetch report --json` over out and decodes it.
func report(t *testing.T, out string, extra ...string) (int, telemetry.Report) {
	t.Helper()
	code, stdout, stderr := oafetch(t, "", append([]string{"report", "--json", "--out", out}, extra...)...)
	var rep telemetry.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report --json: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	return code, rep
}

func TestReportCleanRunExitsZero(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 20)
	ids, works := writeInputs(t, sim)
	planned := len(works)
	out := filepath.Join(sim.dir, "out")
	// The latency objectives measure the machine: under -race on a shared
	// CI box a Claim waits for SQLite's write lock far longer than 100 ms.
	// They are relaxed here; completion and replay keep their defaults.
	conf := filepath.Join(sim.dir, "clean.toml")
	if err := os.WriteFile(conf, []byte(demoConfig()+"\n[slo]\nlease_acquire_p99 = \"30s\"\ntime_to_terminal_p95 = \"10m\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "4", "-q"}, sim.flags...)
	args = append(args, "--config", conf)
	if code, _, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d: %s", code, stderr)
	}
	code, rep := report(t, out, "--config", conf)
	if code != exitOK || rep.Violated {
		t.Fatalf("clean run: report exit %d, SLOs %+v", code, rep.SLOs)
	}
	if rep.Jobs != planned || rep.Completed != planned || rep.LeaseAcquire.Count < planned {
		t.Errorf("report jobs %d completed %d claims %d, want %d each", rep.Jobs, rep.Completed, rep.LeaseAcquire.Count, planned)
	}
	for _, s := range rep.SLOs {
		if !s.Evaluated {
			t.Errorf("SLO %s not evaluated after a run", s.Name)
		}
	}
	if code, stdout, _ := oafetch(t, "", "report", "--out", out, "--config", conf); code != exitOK || !strings.Contains(stdout, "completion") {
		t.Errorf("text report exit %d:\n%s", code, stdout)
	}
}

func TestReportNamesTheViolatedSLOAfterInjectedFailures(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 20)
	ids, works := writeInputs(t, sim)
	planned := len(works)
	// Every host answers 429 with a Retry-After of an hour: beyond the
	// policy's cap, so each host is paused and its requests fail fast as
	// rate-limited. With one claim per job, jobs end given up, not decided.
	faults := []simweb.Fault{{Kind: simweb.FaultRateLimit, RetryAfter: time.Hour}}
	sim.srv.SetFaults(faults)
	conf := filepath.Join(sim.dir, "faulty.toml")
	if err := os.WriteFile(conf, []byte(demoConfig()+"\n[jobs]\nmax_attempts = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sim.dir, "out")
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "4", "-q"}, sim.flags...)
	args = append(args, "--config", conf)
	if code, _, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d: %s", code, stderr)
	}
	code, rep := report(t, out, "--config", conf)
	if code != exitFailed {
		t.Errorf("report exit %d, want %d (SLO violated)", code, exitFailed)
	}
	var completion *telemetry.SLOResult
	for i := range rep.SLOs {
		if rep.SLOs[i].Name == "completion" {
			completion = &rep.SLOs[i]
		}
	}
	if completion == nil || completion.OK || !completion.Evaluated || completion.Actual >= 99.5 {
		t.Fatalf("completion SLO %+v, want violated", completion)
	}
	if rep.Jobs != planned || rep.Completed >= planned || !rep.Violated {
		t.Errorf("report %d jobs, %d completed, violated %v", rep.Jobs, rep.Completed, rep.Violated)
	}
}

// `plan` then `work`: the worker process serves the metrics and its
// outcomes add up to what was planned.
func TestWorkServesMetrics(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 8)
	ids, works := writeInputs(t, sim)
	out := filepath.Join(sim.dir, "out")
	if code, _, stderr := oafetch(t, "", append([]string{"plan", "--input", ids, "--out", out}, sim.flags...)...); code != exitOK {
		t.Fatalf("plan exit %d: %s", code, stderr)
	}
	var (
		url   string
		final map[string]*dto.MetricFamily
		opts  appOptions
	)
	opts.metricsServing = func(u string) { url = u }
	opts.workDone = func() { final = scrape(t, url) }
	var stderr bytes.Buffer
	args := append([]string{"work", "--out", out, "--workers", "2", "--metrics-addr", "127.0.0.1:0", "-q"}, sim.flags...)
	if code := runWith(args, strings.NewReader(""), io.Discard, &stderr, []string{"HOME=" + t.TempDir()}, opts); code != exitOK {
		t.Fatalf("work exit %d:\n%s", code, stderr.String())
	}
	if got := sum(final, "oafetch_job_outcomes_total", nil); got != float64(len(works)) {
		t.Errorf("work: sum of outcomes %v, want %d planned", got, len(works))
	}
	if got := sum(final, "oafetch_jobs", map[string]string{"state": "PLANNED"}); got != 0 {
		t.Errorf("work: %v jobs still PLANNED", got)
	}
}
