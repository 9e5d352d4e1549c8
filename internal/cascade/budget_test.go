package cascade_test

import (
	"context"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// When the total timeout cuts the attempts still running, the work ends
// budget-exhausted — unless an attempt that ended on its own asked to come
// back (rate-limited with Retry-After): then the work is retried later.
func TestTotalTimeoutCode(t *testing.T) {
	t.Parallel()
	hang := func(ctx context.Context, _ fulltext.Work) (source.Result, error) {
		<-ctx.Done()
		// What an HTTP source returns when its request is cut.
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeTimeout, Err: context.Cause(ctx)}
	}
	limited := func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: time.Hour}
	}
	absent := func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeNotFound}
	}
	tests := []struct {
		name       string
		other      func(context.Context, fulltext.Work) (source.Result, error)
		want       fulltext.Code
		retryAfter time.Duration
	}{
		{"cut attempts only", hang, fulltext.CodeBudgetExhausted, 0},
		{"beside an absent answer", absent, fulltext.CodeBudgetExhausted, 0},
		{"beside a rate-limited answer", limited, fulltext.CodeRateLimited, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, cascade.Config{TotalTimeout: 30 * time.Millisecond, Tiers: []cascade.Tier{
				{Name: "direct_oa", Parallel: 2, Sources: []string{"unpaywall", "openalex"}},
			}}, &fakeSource{name: "unpaywall", lookup: hang}, &fakeSource{name: "openalex", lookup: tt.other})
			res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
			if res.Code != tt.want || res.RetryAfter != tt.retryAfter {
				t.Errorf("code %s, RetryAfter %s; want %s, %s\n%+v", res.Code, res.RetryAfter, tt.want, tt.retryAfter, res.Attempts)
			}
			for _, a := range res.Attempts {
				if a.Source == "unpaywall" && a.Code != fulltext.CodeBudgetExhausted {
					t.Errorf("the cut attempt has code %s, want budget-exhausted", a.Code)
				}
			}
		})
	}
}

// A caller's cancellation is not a budget: the cut attempts keep their own
// codes.
func TestCallerCancelIsNotBudget(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	src := &fakeSource{name: "unpaywall", lookup: func(ctx context.Context, _ fulltext.Work) (source.Result, error) {
		cancel()
		<-ctx.Done()
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeTimeout, Err: ctx.Err()}
	}}
	c, _ := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}}}, src)
	res := c.Run(ctx, fulltext.Lease{}, work, download.Hooks{})
	if res.Code == fulltext.CodeBudgetExhausted {
		t.Errorf("a cancelled run ended budget-exhausted: %+v", res.Attempts)
	}
}
