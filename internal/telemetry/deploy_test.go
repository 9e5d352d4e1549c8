package telemetry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// The shipped monitoring (deploy/) must parse and name only metrics this
// package exports: a renamed metric breaks this test, not a dashboard in
// production.

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// exportedNames are the names of every metric oafetch serves, histogram
// series suffixes included.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	sink, err := OpenSink(SinkConfig{Path: filepath.Join(t.TempDir(), "e.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	NewRecorder(sink, m, nil)
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range append(slices.Clone(m.all), NewStoreCollector(nil)) {
		c.Describe(ch)
	}
	close(ch)
	names := map[string]bool{}
	for d := range ch {
		match := fqName.FindStringSubmatch(d.String())
		if match == nil {
			t.Fatalf("no name in %s", d)
		}
		names[match[1]] = true
		if strings.HasSuffix(match[1], "_seconds") {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[match[1]+s] = true
			}
		}
	}
	if len(names) < 20 {
		t.Fatalf("only %d metric names found: %v", len(names), names)
	}
	return names
}

// grafanaVars replaces dashboard variables with values PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$host", "x")

// checkExpr parses expr and reports metric names oafetch does not export.
func checkExpr(t *testing.T, where, expr string, names map[string]bool) {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	e, err := p.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return
	}
	selectors := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		selectors++
		if !names[vs.Name] {
			t.Errorf("%s: %s is not a metric oafetch exports", where, vs.Name)
		}
		return nil
	})
	if selectors == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
}

func TestPrometheusAlertsParseAndNameExportedMetrics(t *testing.T) {
	t.Parallel()
	names := exportedNames(t)
	data, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Record      string            `yaml:"record"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	alerts := map[string]bool{}
	for _, g := range file.Groups {
		if len(g.Rules) == 0 {
			t.Errorf("group %s has no rule", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || alerts[r.Alert] {
				t.Errorf("group %s: alert name %q empty or repeated", g.Name, r.Alert)
			}
			alerts[r.Alert] = true
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: needs a severity label and a summary", r.Alert)
			}
			checkExpr(t, r.Alert, r.Expr, names)
		}
	}
	// The families: SLO burn, breaker storms, stuck leases, credits.
	for _, want := range []string{"OafetchCompletionBudgetFastBurn", "OafetchBreakerStorm", "OafetchStuckLeases", "OafetchAPICreditsLow"} {
		if !alerts[want] {
			t.Errorf("alert %s missing", want)
		}
	}
}

func TestGrafanaDashboardParsesAndNamesExportedMetrics(t *testing.T) {
	t.Parallel()
	names := exportedNames(t)
	data, err := os.ReadFile("../../deploy/grafana/oafetch.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("oafetch.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) < 10 {
		t.Fatalf("dashboard uid %q with %d panels", dash.UID, len(dash.Panels))
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] || len(p.Targets) == 0 {
			t.Errorf("panel %q: id %d repeated or no target", p.Title, p.ID)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			expr := grafanaVars.Replace(tg.Expr)
			checkExpr(t, "panel "+p.Title, expr, names)
			for n := range names {
				if strings.Contains(expr, n) {
					used[n] = true
				}
			}
		}
	}
	for _, v := range dash.Templating.List {
		if strings.HasPrefix(v.Definition, "label_values(") {
			metric, _, _ := strings.Cut(strings.TrimPrefix(v.Definition, "label_values("), ",")
			if !names[metric] {
				t.Errorf("variable %s: %s is not a metric oafetch exports", v.Name, metric)
			}
		}
	}
	// Every family the issue names has a panel.
	for _, want := range []string{"oafetch_jobs", "oafetch_job_outcomes_total", "oafetch_attempts_total", "oafetch_attempt_duration_seconds_bucket",
		"oafetch_downloaded_bytes_total", "oafetch_http_in_flight_requests", "oafetch_pacing_wait_seconds_bucket", "oafetch_breaker_state",
		"oafetch_lease_renewals_total", "oafetch_reconciler_actions_total", "oafetch_api_credits_remaining"} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}
