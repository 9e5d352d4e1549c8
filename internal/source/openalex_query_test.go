package source

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestQueryFilterExpr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"raw filter", Query{Filter: "primary_topic.field.id:17|23"}, "primary_topic.field.id:17|23"},
		{"topic url and years", Query{Topic: "https://openalex.org/T10325", YearStart: 2019, YearEnd: 2021}, "topics.id:T10325,publication_year:2019-2021"},
		{"from year", Query{Topic: "T1", YearStart: 2019, OAOnly: true}, "topics.id:T1,publication_year:>2018,is_oa:true"},
		{"to year", Query{Filter: "has_doi:true,", YearEnd: 2000}, "has_doi:true,publication_year:<2001"},
		{"empty", Query{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.q.FilterExpr(); got != tt.want {
				t.Errorf("FilterExpr() = %q, want %q", got, tt.want)
			}
		})
	}
}

const nextCursor = "WzE1NTc5NjQ4MDAwMDAsICdodHRwczovL29wZW5hbGV4Lm9yZy9XOTk5MDAwMDAwMidd"

func queryOpenAlex(t *testing.T, opts ...fakeOption) (*OpenAlex, *fake) {
	t.Helper()
	s, f := setup(t, "openalex", Config{APIKey: "TESTKEY"}, Deps{}, opts...)
	return s.(*OpenAlex), f
}

func TestQueryPages(t *testing.T) {
	t.Parallel()
	o, f := queryOpenAlex(t,
		serve("/works?cursor=*", 200, "openalex_works_page.json"),
		serve("/works?cursor="+nextCursor, 200, "openalex_works_page_last.json"),
	)
	q := Query{Filter: "primary_topic.field.id:17|23", YearStart: 2019, YearEnd: 2021, OAOnly: true}
	var got []string
	var cursors []string
	err := o.Query(t.Context(), q, "", func(ws []fulltext.Work, next string) error {
		for _, w := range ws {
			if len(w.Record) == 0 {
				t.Errorf("%s: record not kept", w.ID)
			}
			got = append(got, w.ID.String())
		}
		cursors = append(cursors, next)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"doi:10.5555/jsim.2021.0042", "doi:10.5555/tcs.2019.117"}; !slices.Equal(got, want) {
		t.Fatalf("works %q, want %q", got, want)
	}
	if !slices.Equal(cursors, []string{nextCursor}) {
		t.Fatalf("cursors %q", cursors)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first := reqs[0].url.Query()
	if first.Get("filter") != "primary_topic.field.id:17|23,publication_year:2019-2021,is_oa:true" ||
		first.Get("per_page") != "200" || first.Get("select") != querySelect || first.Get("api_key") != "TESTKEY" {
		t.Errorf("first query %v", first)
	}
}

func TestQueryResumesFromCursor(t *testing.T) {
	t.Parallel()
	o, f := queryOpenAlex(t, serve("/works?cursor="+nextCursor, 200, "openalex_works_page_last.json"))
	calls := 0
	err := o.Query(t.Context(), Query{OAOnly: true}, nextCursor, func([]fulltext.Work, string) error { calls++; return nil })
	if err != nil || calls != 0 || len(f.requests()) != 1 {
		t.Fatalf("err %v, %d calls, %d requests", err, calls, len(f.requests()))
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	t.Run("credits exhausted", func(t *testing.T) {
		t.Parallel()
		o, _ := queryOpenAlex(t, serve("/works", 429, "openalex_429.json"))
		err := o.Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
		wantCode(t, err, fulltext.CodeCreditsExhausted, -1)
	})
	t.Run("callback error stops", func(t *testing.T) {
		t.Parallel()
		o, f := queryOpenAlex(t, serve("/works?cursor=*", 200, "openalex_works_page.json"))
		stop := errors.New("stop")
		err := o.Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return stop })
		if !errors.Is(err, stop) || len(f.requests()) != 1 {
			t.Fatalf("err %v after %d requests", err, len(f.requests()))
		}
	})
	t.Run("empty filter", func(t *testing.T) {
		t.Parallel()
		o, _ := queryOpenAlex(t)
		err := o.Query(t.Context(), Query{}, "", func([]fulltext.Work, string) error { return nil })
		wantCode(t, err, fulltext.CodeResolverError, -1)
	})
	t.Run("bad select", func(t *testing.T) {
		t.Parallel()
		o, _ := queryOpenAlex(t, serve("/works", 400, "openalex_400.json"))
		err := o.Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
		wantCode(t, err, fulltext.CodeResolverError, -1)
	})
}

func TestQueryStopsWhenCreditsAreSpent(t *testing.T) {
	t.Parallel()
	o, f := queryOpenAlex(t,
		serve("/works?cursor=*", 200, "openalex_works_page.json",
			"X-RateLimit-Limit", "10000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "3600"),
		serve("/works?cursor="+nextCursor, 200, "openalex_works_page_last.json"),
	)
	var cursors []string
	err := o.Query(t.Context(), Query{OAOnly: true}, "", func(_ []fulltext.Work, next string) error {
		cursors = append(cursors, next)
		return nil
	})
	wantCode(t, err, fulltext.CodeCreditsExhausted, time.Hour)
	if !slices.Equal(cursors, []string{nextCursor}) || len(f.requests()) != 1 {
		t.Fatalf("cursors %q after %d requests: the page that spent the allowance must be delivered, and no more asked", cursors, len(f.requests()))
	}
}

func TestQueryLastPageWithNoCreditsLeftIsDone(t *testing.T) {
	t.Parallel()
	o, _ := queryOpenAlex(t, serve("/works?cursor="+nextCursor, 200, "openalex_works_page_last.json", "X-RateLimit-Remaining", "0"))
	if err := o.Query(t.Context(), Query{OAOnly: true}, nextCursor, func([]fulltext.Work, string) error { return nil }); err != nil {
		t.Fatalf("a finished query is not interrupted by an empty allowance: %v", err)
	}
}

func TestQueryRateLimitIsNotCredits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		headers []string
		want    fulltext.Code
	}{
		{"plain 429", `{"error":"Too Many Requests","message":"slow down"}`, []string{"Retry-After", "2"}, fulltext.CodeRateLimited},
		{"plain 429 no retry-after", `{"error":"Too Many Requests"}`, nil, fulltext.CodeRateLimited},
		{"429 with nothing remaining", `{"error":"Too Many Requests"}`, []string{"X-RateLimit-Remaining", "0"}, fulltext.CodeCreditsExhausted},
		{"403 per-second limit", `{"error":"Forbidden","message":"rate limit exceeded - slow down"}`, nil, fulltext.CodeRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status := 429
			if strings.HasPrefix(tt.name, "403") {
				status = 403
			}
			o, _ := queryOpenAlex(t, serveBody("/works", status, tt.body, tt.headers...))
			err := o.Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
			wantCode(t, err, tt.want, -1)
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header []string
		want   RateLimit
		ok     bool
	}{
		{"seconds", []string{"X-RateLimit-Limit", "10000", "X-RateLimit-Remaining", "42", "X-RateLimit-Reset", "7200"}, RateLimit{10000, 42, 2 * time.Hour, now.Add(2 * time.Hour)}, true},
		{"unix time", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Add(90*time.Minute).Unix(), 10)}, RateLimit{0, 0, 90 * time.Minute, now.Add(90 * time.Minute)}, true},
		{"no reset", []string{"X-RateLimit-Remaining", "3"}, RateLimit{Remaining: 3}, true},
		{"absent", nil, RateLimit{}, false},
		{"garbage", []string{"X-RateLimit-Remaining", "lots"}, RateLimit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for i := 0; i+1 < len(tt.header); i += 2 {
				h.Set(tt.header[i], tt.header[i+1])
			}
			got, ok := ParseRateLimit(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseRateLimit = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

const topicsPage = `{"meta":{"count":1,"page":1,"per_page":5},"results":[
 {"id":"https://openalex.org/T99902","display_name":"Fault Tolerance in Distributed Systems"}],"group_by":[]}`

func TestResolveTopic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, topic, wantID string
		requests            int
		code                fulltext.Code
	}{
		{"bare id", "T10325", "T10325", 0, ""},
		{"lower-case id", "t10325", "T10325", 0, ""},
		{"id url", "https://openalex.org/T10325", "T10325", 0, ""},
		{"name", "fault tolerance", "T99902", 1, ""},
		{"no match", "alchemy", "", 1, fulltext.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, f := queryOpenAlex(t,
				serveBody("/topics?search=fault+tolerance", 200, topicsPage),
				serveBody("/topics?search=alchemy", 200, `{"meta":{"count":0},"results":[]}`))
			id, _, err := o.ResolveTopic(t.Context(), tt.topic)
			if tt.code != "" {
				wantCode(t, err, tt.code, -1)
			} else if err != nil || id != tt.wantID {
				t.Fatalf("ResolveTopic(%q) = %q, %v; want %q", tt.topic, id, err, tt.wantID)
			}
			if n := len(f.requests()); n != tt.requests {
				t.Fatalf("%d requests, want %d", n, tt.requests)
			}
			if tt.requests > 0 && f.requests()[0].url.Query().Get("api_key") != "TESTKEY" {
				t.Errorf("topic search without the api_key: %v", f.requests()[0].url)
			}
		})
	}
}

// rateLimitLog collects what Deps.RateLimit reports.
type rateLimitLog struct {
	mu  sync.Mutex
	got []string
}

func (l *rateLimitLog) report(api string, rl RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("%s %d/%d reset %s at %s", api, rl.Remaining, rl.Limit, rl.Reset, rl.ResetAt.Format(time.RFC3339)))
}

func (l *rateLimitLog) reports() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// Deps.RateLimit hears every answer that carries X-RateLimit-Remaining —
// pages, refusals and single lookups, of any source — and nothing else.
func TestDepsRateLimitReportsEveryAnswerWithTheHeaders(t *testing.T) {
	t.Parallel()
	reset := testNow.Add(time.Hour).Format(time.RFC3339)
	tests := []struct {
		name string
		run  func(t *testing.T, d Deps) error
		want []string
	}{
		{"query pages", func(t *testing.T, d Deps) error {
			s, _ := setup(t, "openalex", Config{}, d,
				serve("/works?cursor=*", 200, "openalex_works_page.json",
					"X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "7", "X-RateLimit-Reset", "3600"),
				serve("/works?cursor="+nextCursor, 200, "openalex_works_page_last.json",
					"X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "6", "X-RateLimit-Reset", "3600"))
			return s.(*OpenAlex).Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
		}, []string{"openalex 7/100 reset 1h0m0s at " + reset, "openalex 6/100 reset 1h0m0s at " + reset}},
		{"refused call", func(t *testing.T, d Deps) error {
			s, _ := setup(t, "openalex", Config{}, d,
				serve("/works", 429, "openalex_429.json", "X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "3600"))
			err := s.(*OpenAlex).Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
			if fulltext.CodeOf(err) != fulltext.CodeCreditsExhausted {
				return err
			}
			return nil
		}, []string{"openalex 0/100 reset 1h0m0s at " + reset}},
		{"another source", func(t *testing.T, d Deps) error {
			s, _ := setup(t, "unpaywall", Config{}, d,
				serve("/v2/10.5555/jsim.2021.0042", 200, "unpaywall_gold.json", "X-RateLimit-Remaining", "99"))
			_, err := s.Lookup(t.Context(), work(t, "10.5555/jsim.2021.0042"))
			return err
		}, []string{"unpaywall 99/0 reset 0s at 0001-01-01T00:00:00Z"}},
		{"no headers", func(t *testing.T, d Deps) error {
			s, _ := setup(t, "openalex", Config{}, d, serve("/works?cursor=*", 200, "openalex_works_page_last.json"))
			return s.(*OpenAlex).Query(t.Context(), Query{OAOnly: true}, "", func([]fulltext.Work, string) error { return nil })
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log rateLimitLog
			if err := tt.run(t, Deps{Mailto: "ops@example.org", RateLimit: log.report}); err != nil {
				t.Fatal(err)
			}
			if got := log.reports(); !slices.Equal(got, tt.want) {
				t.Errorf("reported %q, want %q", got, tt.want)
			}
		})
	}
}
