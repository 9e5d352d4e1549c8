package source

import (
	"net/http"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// FuzzRecordSources feeds arbitrary OpenAlex records to the sources that
// read them without a request: they must never panic, and every candidate
// they return has a URL, a kind, and a URL unique within its result.
func FuzzRecordSources(f *testing.F) {
	for _, name := range []string{"openalex_work.json", "openalex_work_gold.json", "openalex_work_closed.json"} {
		b, err := readFixtureFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"W1","best_oa_location":{"pdf_url":"x"},"locations":[null,{"is_oa":true}],"open_access":{"oa_url":""}}`))
	f.Add([]byte(`{"id":7}`))
	f.Add([]byte(`null`))
	client := new(http.Client)
	var sources []Source
	for _, name := range []string{"openalex", "landing", "wayback"} {
		s, err := New(name, Config{BaseURL: "http://127.0.0.1:1"}, Deps{Client: client})
		if err != nil {
			f.Fatal(err)
		}
		sources = append(sources, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return // no record: not applicable, covered elsewhere
		}
		w := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindOpenAlex, Value: "W1"}, Record: data}
		for _, s := range sources[:2] {
			res, err := s.Lookup(t.Context(), w)
			if err != nil {
				if c := fulltext.CodeOf(err); c != fulltext.CodeResolverError {
					t.Fatalf("%s: code %q for a bad record", s.Name(), c)
				}
				continue
			}
			seen := map[string]bool{}
			for _, c := range res.Candidates {
				if c.URL == "" || c.Kind == "" || seen[c.URL] || c.Source != s.Name() {
					t.Fatalf("%s: bad candidate %+v", s.Name(), c)
				}
				seen[c.URL] = true
			}
		}
		_ = recordURLs(w)
	})
}

// FuzzRetryAfter checks that any Retry-After value parses to a bounded,
// non-negative wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-3", "99999999999999999999", "Sat, 28 Nov 2026 20:01:30 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(http.Header{"Retry-After": {v}}, now)
		if d < 0 {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}
