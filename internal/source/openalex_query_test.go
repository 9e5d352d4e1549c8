package source

import (
	"errors"
	"slices"
	"testing"

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
