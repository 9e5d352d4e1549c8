package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const coreSearch = "/v3/search/works/"

func TestCORECandidates(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "core", Config{APIKey: "TESTKEY"}, Deps{},
		serve(coreSearch+"?q="+urlQueryEscape(`doi:"10.5555/tcs.2019.117"`), 200, "core_search.json"))
	res, err := lookup(t, s, work(t, "10.5555/tcs.2019.117"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://core.ac.uk/download/999000123.pdf",
		"https://repository.example.edu/bitstream/handle/123456789/4242/consensus_aam.pdf",
		"https://core.ac.uk/works/159990123",
	}
	if got := urls(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	if !res.Candidates[2].Landing || res.Candidates[0].Landing || res.IDs.ArXiv != "1905.99123" || res.Year != 2019 || res.Closed {
		t.Errorf("result %+v", res)
	}
	if got := f.requests()[0].header.Get("Authorization"); got != "Bearer TESTKEY" {
		t.Errorf("authorization %q", got)
	}
}

func TestCORENeedsKey(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "core", Config{}, Deps{})
	w := work(t, "10.5555/tcs.2019.117")
	if s.Applicable(w) {
		t.Error("applicable without a key")
	}
	_, err := lookup(t, s, w)
	wantCode(t, err, fulltext.CodeSkipNotApplicable, -1)
	if len(f.requests()) != 0 {
		t.Error("asked without a key")
	}
}

func TestCOREErrors(t *testing.T) {
	t.Parallel()
	w := work(t, "10.5555/does-not-exist.0000")
	cfg := Config{APIKey: "K"}
	for _, c := range errorCases(coreSearch) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "core", cfg, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"no hit", serveBody(coreSearch, 200, `{"totalHits":0,"limit":10,"offset":0,"results":[]}`), fulltext.CodeNotFound},
		{"hit for another doi", serve(coreSearch, 200, "core_search.json"), fulltext.CodeResolverError},
		{"not a search", serveBody(coreSearch, 200, `{"message":"ok"}`), fulltext.CodeResolverError},
		{"bad key", serveBody(coreSearch, 401, `{"message":"Invalid API key"}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "core", cfg, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "core", cfg, Deps{}, w, coreSearch)
}
