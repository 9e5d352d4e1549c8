package source

import (
	"net/http"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The RoundTripper wrappers (robots, breaker, paused hosts) answer with
// their own codes; sources pass them through.
func TestTransportCodesPassThrough(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  fulltext.Code
		after time.Duration
	}{
		{fulltext.CodeSkipBreaker, 0},
		{fulltext.CodeSkipRobots, 0},
		{fulltext.CodeRateLimited, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &fulltext.Error{Code: tt.code, RetryAfter: tt.after}
			})}
			s, err := New("crossref", Config{}, Deps{Client: client})
			if err != nil {
				t.Fatal(err)
			}
			_, err = lookup(t, s, work(t, "10.5555/x"))
			wantCode(t, err, tt.code, tt.after)
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := testNow
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "120", 2 * time.Minute},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"http date", now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestUserAgentSent(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "crossref", Config{}, Deps{UserAgent: "oafetch/1.0 (+https://example.org; mailto:ops@example.org)"})
	_, _ = lookup(t, s, work(t, "10.5555/x"))
	if got := f.requests()[0].header.Get("User-Agent"); got != "oafetch/1.0 (+https://example.org; mailto:ops@example.org)" {
		t.Errorf("user agent %q", got)
	}
}
