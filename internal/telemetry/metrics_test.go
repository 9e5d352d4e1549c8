package telemetry

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
)

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

// value returns the value of the series name{labels} (counter, gauge, or a
// histogram's count), and whether it exists.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return metricValue(m), true
		}
	}
	return 0, false
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func TestMetricsHostObserverAndTransport(t *testing.T) {
	t.Parallel()
	reg := newRegistry()
	m := NewMetrics(reg)
	release := make(chan struct{})
	entered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: m.Transport(srv.Client().Transport)}
	host := strings.TrimPrefix(srv.URL, "http://")

	done := make(chan error)
	go func() {
		resp, err := client.Get(srv.URL + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	if v, _ := value(t, reg, "oafetch_http_in_flight_requests", map[string]string{"host": host}); v != 1 {
		t.Errorf("in flight %v during the request, want 1", v)
	}
	if hs := m.ActiveHosts(); len(hs) != 1 || hs[0].Host != host || hs[0].InFlight != 1 {
		t.Errorf("active hosts %+v", hs)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, _ := value(t, reg, "oafetch_http_in_flight_requests", map[string]string{"host": host}); v != 0 {
		t.Errorf("in flight %v after the request, want 0", v)
	}
	if len(m.ActiveHosts()) != 0 {
		t.Errorf("active hosts after the request: %+v", m.ActiveHosts())
	}
	if v, _ := value(t, reg, "oafetch_http_requests_total", map[string]string{"host": host, "class": "5xx"}); v != 1 {
		t.Errorf("requests{5xx} %v, want 1", v)
	}

	m.Wait("a.example.org", 250*time.Millisecond)
	m.Retry("a.example.org", 503)
	m.Breaker("a.example.org", hostpolicy.BreakerOpen)
	m.Breaker("a.example.org", hostpolicy.BreakerHalfOpen)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"oafetch_pacing_wait_seconds", map[string]string{"host": "a.example.org"}, 1},
		{"oafetch_http_retries_total", map[string]string{"host": "a.example.org", "status": "503"}, 1},
		{"oafetch_breaker_state", map[string]string{"host": "a.example.org", "state": "half-open"}, 1},
		{"oafetch_breaker_state", map[string]string{"host": "a.example.org", "state": "open"}, 0},
		{"oafetch_breaker_transitions_total", map[string]string{"host": "a.example.org", "state": "open"}, 1},
	} {
		if v, ok := value(t, reg, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
}

func TestRecorderCountsOutcomesAndRetries(t *testing.T) {
	t.Parallel()
	reg := newRegistry()
	clock := fulltext.NewStubClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "events.jsonl")
	sink, err := OpenSink(SinkConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(sink, NewMetrics(reg), clock)
	w, _ := fulltext.ParseWork("10.5555/x")
	j := fulltext.Job{ID: 7, Work: w, State: fulltext.StateLeased, Epoch: 2, CreatedAt: clock.Now()}
	r.JobLeased(j, 3*time.Millisecond)
	r.JobStep(j, fulltext.Step{Op: fulltext.OpHead, Status: fulltext.OpCompleted, To: fulltext.StateHeadDone}, fulltext.StateLeased)
	r.LeaseRenewed(j.Lease(), nil)
	r.LeaseRenewed(fulltext.Lease{JobID: 8, Epoch: 1}, fmt.Errorf("renew: %w", fulltext.ErrLeaseLost)) // another job's
	clock.Advance(2 * time.Second)
	j.State = fulltext.StateHeadDone
	r.JobFinished(j, fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry, Code: fulltext.CodeServerError},
		[]fulltext.Attempt{{Seq: 1, Source: "doi", Host: "doi.org", Code: fulltext.CodeServerError, Duration: time.Second}})
	r.JobFinished(j, fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeBlocked, Code: fulltext.CodeBlockedPaywall},
		[]fulltext.Attempt{{Seq: 1, Source: "landing", Host: "pub.example.org", Code: fulltext.CodeBlockedPaywall}})
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"oafetch_job_retries_total", map[string]string{"code": "server-error"}, 1},
		{"oafetch_job_outcomes_total", map[string]string{"outcome": "blocked", "code": "blocked-paywall", "source": "landing"}, 1},
		{"oafetch_attempts_total", map[string]string{"source": "doi", "host": "doi.org", "outcome": "retry"}, 1},
		{"oafetch_lease_acquire_seconds", nil, 1},
		{"oafetch_lease_renewals_total", map[string]string{"result": "ok"}, 1},
		{"oafetch_lease_renewals_total", map[string]string{"result": "lost"}, 1},
		{"oafetch_job_duration_seconds", nil, 1},
		{"oafetch_job_time_to_terminal_seconds", nil, 1},
		{"oafetch_events_dropped_total", nil, 0},
	} {
		if v, ok := value(t, reg, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	types := map[EventType]int{}
	for _, e := range readAll(t, path) {
		types[e.Type]++
		if e.Type == EventJobStateChanged && e.To == fulltext.StateFailed && (e.From != fulltext.StateHeadDone || e.Code != fulltext.CodeBlockedPaywall) {
			t.Errorf("final state change %+v", e)
		}
	}
	want := map[EventType]int{EventJobLeased: 1, EventOperationCompleted: 1, EventJobStateChanged: 3, EventLeaseRenewed: 2, EventAttempt: 2}
	for typ, n := range want {
		if types[typ] != n {
			t.Errorf("%d %s events, want %d (all: %v)", types[typ], typ, n, types)
		}
	}
}

// Links found on landing pages are counted per technique, host and
// result; source candidates are not, and unknown techniques become other.
func TestRecorderCountsLandingLinks(t *testing.T) {
	t.Parallel()
	reg := newRegistry()
	clock := fulltext.NewStubClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sink, err := OpenSink(SinkConfig{Path: filepath.Join(t.TempDir(), "events.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	r := NewRecorder(sink, NewMetrics(reg), clock)
	w, _ := fulltext.ParseWork("10.5555/x")
	j := fulltext.Job{ID: 7, Work: w, State: fulltext.StateHeadDone, Epoch: 1, CreatedAt: clock.Now()}
	r.JobFinished(j, fulltext.Finish{State: fulltext.StateIndexed, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKPDF}, []fulltext.Attempt{
		{Seq: 1, Source: "doi", Technique: "lookup", Code: fulltext.CodeNoOALocation},
		{Seq: 6, Source: "doi", Host: "doi.org", Technique: "doi-resolve", Parent: 1, Code: fulltext.CodeNoPDFLink},
		{Seq: 2, Source: "doi", Host: "pub.example.org", Technique: "citation_pdf_url", Parent: 6, Code: fulltext.CodeWrongType},
		{Seq: 3, Source: "doi", Host: "pub.example.org", Technique: "ojs-galley", Parent: 6, Code: fulltext.CodeOKPDF},
		{Seq: 4, Source: "doi", Host: "cdn.example.org", Technique: "pattern:made-up", Parent: 6, Code: fulltext.CodeBlockedChallenge},
		{Seq: 5, Source: "doi", Technique: "anchor", Parent: 6, Code: fulltext.CodeBudgetExhausted},
	})
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"technique": "citation_pdf_url", "host": "pub.example.org", "result": "invalid"}, 1},
		{map[string]string{"technique": "ojs-galley", "host": "pub.example.org", "result": "ok"}, 1},
		{map[string]string{"technique": "other", "host": "cdn.example.org", "result": "blocked"}, 1},
		{map[string]string{"technique": "anchor", "host": "none", "result": "budget"}, 1},
	} {
		if v, ok := value(t, reg, "oafetch_landing_links_total", c.labels); !ok || v != c.want {
			t.Errorf("oafetch_landing_links_total%v = %v (present %v), want %v", c.labels, v, ok, c.want)
		}
	}
	if _, ok := value(t, reg, "oafetch_landing_links_total", map[string]string{"host": "doi.org"}); ok {
		t.Error("a source candidate (the lookup's child) counted as a landing link")
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "oafetch_landing_links_total" && len(f.GetMetric()) != 4 {
			t.Errorf("%d landing link series, want 4", len(f.GetMetric()))
		}
	}
}
