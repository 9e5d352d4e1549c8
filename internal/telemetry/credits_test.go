package telemetry

import (
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/source"
)

// rlReport is one call of Deps.RateLimit.
type rlReport struct {
	api string
	rl  source.RateLimit
}

func TestRateLimitGauges(t *testing.T) {
	t.Parallel()
	resetAt := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	type series struct {
		name, api string
		want      float64
		present   bool
	}
	tests := []struct {
		name    string
		reports []rlReport
		want    []series
	}{
		{
			name: "last answer wins",
			reports: []rlReport{
				{"openalex", source.RateLimit{Limit: 10000, Remaining: 42, Reset: time.Hour, ResetAt: resetAt}},
				{"openalex", source.RateLimit{Limit: 10000, Remaining: 41, Reset: time.Hour, ResetAt: resetAt}},
			},
			want: []series{
				{"oafetch_api_credits_remaining", "openalex", 41, true},
				{"oafetch_api_credits_limit", "openalex", 10000, true},
				{"oafetch_api_credits_reset_timestamp_seconds", "openalex", float64(resetAt.Unix()), true},
			},
		},
		{
			name:    "remaining only",
			reports: []rlReport{{"core", source.RateLimit{Remaining: 7}}},
			want: []series{
				{"oafetch_api_credits_remaining", "core", 7, true},
				{"oafetch_api_credits_limit", "core", 0, false},
				{"oafetch_api_credits_reset_timestamp_seconds", "core", 0, false},
			},
		},
		{
			name:    "unknown api is bounded",
			reports: []rlReport{{"https://evil.example/?id=1", source.RateLimit{Remaining: 0, Limit: 5}}},
			want: []series{
				{"oafetch_api_credits_remaining", "other", 0, true},
				{"oafetch_api_credits_limit", "other", 5, true},
				{"oafetch_api_credits_remaining", "https://evil.example/?id=1", 0, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := newRegistry()
			m := NewMetrics(reg)
			for _, r := range tt.reports {
				m.RateLimit(r.api, r.rl)
			}
			for _, s := range tt.want {
				got, ok := value(t, reg, s.name, map[string]string{"api": s.api})
				if ok != s.present || got != s.want {
					t.Errorf("%s{api=%q} = %v (present %v), want %v (present %v)", s.name, s.api, got, ok, s.want, s.present)
				}
			}
		})
	}
}

// m.RateLimit has the signature of source.Deps.RateLimit, so the CLI can
// hand it over as is.
var _ = source.Deps{RateLimit: (*Metrics)(nil).RateLimit}

func TestFallbackBudgetGauges(t *testing.T) {
	t.Parallel()
	reg := newRegistry()
	m := NewMetrics(reg)
	if _, ok := value(t, reg, "oafetch_fallback_budget", nil); ok {
		t.Fatal("budget exported before it was set")
	}
	m.FallbackBudget(90*time.Second, 12)
	for kind, want := range map[string]float64{"total_timeout_seconds": 90, "max_attempts": 12} {
		if got, ok := value(t, reg, "oafetch_fallback_budget", map[string]string{"kind": kind}); !ok || got != want {
			t.Errorf("oafetch_fallback_budget{kind=%q} = %v (present %v), want %v", kind, got, ok, want)
		}
	}
}
