package source

import (
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestDOAJCandidates(t *testing.T) {
	t.Parallel()
	const path = `/api/search/articles/doi:"10.5555/jsim.2021.0042"`
	s, f := setup(t, "doaj", Config{}, Deps{}, serve(path, 200, "doaj_search.json"))
	res, err := lookup(t, s, work(t, "10.5555/jsim.2021.0042"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf",
		"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042",
	}
	if got := urls(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	if res.Candidates[0].Landing || !res.Candidates[1].Landing || res.Year != 2021 {
		t.Errorf("result %+v", res)
	}
	// The query is one path segment: its slash and colon are encoded.
	if raw := f.requests()[0].url.RawPath; !strings.Contains(raw, "doi%3A%2210.5555%2Fjsim.2021.0042%22") {
		t.Errorf("raw path %q", raw)
	}
}

func TestDOAJErrors(t *testing.T) {
	t.Parallel()
	const path = `/api/search/articles/doi:"10.5555/does-not-exist.0000"`
	w := work(t, "10.5555/does-not-exist.0000")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "doaj", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"no article", serveBody(path, 200, `{"total":0,"page":1,"pageSize":10,"results":[]}`), fulltext.CodeNotFound},
		{"another article", serveBody(path, 200, strings.ReplaceAll(string(readFixture(t, "doaj_search.json")), "10.5555/jsim.2021.0042", "10.5555/other")), fulltext.CodeResolverError},
		{"not a search", serveBody(path, 200, `[]`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "doaj", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "doaj", Config{}, Deps{}, w, path)
}
