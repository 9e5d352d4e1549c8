package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oafetch/oafetch/internal/source"
)

// creditMetrics are the budgets an operator watches run down: what each
// API says is left of its allowance (X-RateLimit-*), and the per-work
// budgets of the fallback cascade as configured.
type creditMetrics struct {
	remaining *prometheus.GaugeVec
	limit     *prometheus.GaugeVec
	reset     *prometheus.GaugeVec
	budget    *prometheus.GaugeVec
	// apis is the bounded set of api labels: the source names.
	apis map[string]bool
}

func newCreditMetrics() creditMetrics {
	apis := map[string]bool{}
	for _, n := range source.Names() {
		apis[n] = true
	}
	return creditMetrics{
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_api_credits_remaining", Help: "What the API's last answer said is left of its allowance (X-RateLimit-Remaining; OpenAlex: list calls left today), by api (source name).",
		}, []string{"api"}),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_api_credits_limit", Help: "The API's allowance per window as its last answer said (X-RateLimit-Limit), by api; absent when the API does not say.",
		}, []string{"api"}),
		reset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_api_credits_reset_timestamp_seconds", Help: "Unix time at which the API renews its allowance (X-RateLimit-Reset), by api; absent when the API does not say.",
		}, []string{"api"}),
		budget: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_fallback_budget", Help: "The configured per-work budget of the fallback cascade, by kind: total_timeout_seconds or max_attempts.",
		}, []string{"kind"}),
		apis: apis,
	}
}

func (c creditMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.remaining, c.limit, c.reset, c.budget}
}

// RateLimit records what an API answer said of its allowance; it has the
// signature of source.Deps.RateLimit. api is a source name (anything else
// is counted as "other", so the label set stays bounded). The limit and
// reset gauges are only set when the answer carried them. Answers arriving
// concurrently race: the gauge holds the last one recorded.
func (m *Metrics) RateLimit(api string, rl source.RateLimit) {
	if !m.credits.apis[api] {
		api = "other"
	}
	m.credits.remaining.WithLabelValues(api).Set(float64(rl.Remaining))
	if rl.Limit > 0 {
		m.credits.limit.WithLabelValues(api).Set(float64(rl.Limit))
	}
	if !rl.ResetAt.IsZero() {
		m.credits.reset.WithLabelValues(api).Set(float64(rl.ResetAt.UnixNano()) / 1e9)
	}
}

// FallbackBudget records the per-work budgets the cascade runs with (its
// exhaustions are counted by oafetch_job_outcomes_total{code="budget-exhausted"}).
func (m *Metrics) FallbackBudget(totalTimeout time.Duration, maxAttempts int) {
	m.credits.budget.WithLabelValues("total_timeout_seconds").Set(totalTimeout.Seconds())
	m.credits.budget.WithLabelValues("max_attempts").Set(float64(maxAttempts))
}
