package source

import (
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestHALCandidates(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "hal", Config{}, Deps{}, serve("/search/?q="+urlQueryEscape(`doiId_s:"10.5555/tcs.2019.117"`)+"&wt=json", 200, "hal_search.json"))
	res, err := lookup(t, s, work(t, "10.5555/tcs.2019.117"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://hal.science/hal-09990002/document", "https://hal.science/hal-09990002/file/consensus_aam.pdf", "https://hal.science/hal-09990002"}
	if got := urls(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	if !res.Candidates[2].Landing || res.IDs.ArXiv != "1905.99123" || res.Year != 2019 || res.Closed {
		t.Errorf("result %+v", res)
	}
	if fl := f.requests()[0].url.Query().Get("fl"); !strings.Contains(fl, "fileMain_s") {
		t.Errorf("fl = %q", fl)
	}
}

func TestHALErrors(t *testing.T) {
	t.Parallel()
	const path = "/search/"
	w := work(t, "10.5555/does-not-exist.0000")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "hal", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"no document", serveBody(path, 200, `{"response":{"numFound":0,"start":0,"docs":[]}}`), fulltext.CodeNotFound},
		{"another doi", serve(path, 200, "hal_search.json"), fulltext.CodeResolverError},
		{"solr error", serveBody(path, 400, `{"error":{"msg":"undefined field"}}`), fulltext.CodeResolverError},
		{"no response", serveBody(path, 200, `{"error":{"msg":"x"}}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "hal", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	t.Run("metadata only is closed", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, "hal", Config{}, Deps{}, serveBody(path, 200,
			`{"response":{"numFound":1,"docs":[{"halId_s":"hal-1","doiId_s":"10.5555/does-not-exist.0000","uri_s":"https://hal.science/hal-1"}]}}`))
		res, err := lookup(t, s, w)
		if err != nil || !res.Closed || len(res.Candidates) != 0 {
			t.Fatalf("res %+v err %v", res, err)
		}
	})
	transportCases(t, "hal", Config{}, Deps{}, w, path)
}

func TestHALLicence(t *testing.T) {
	t.Parallel()
	body := `{"response":{"numFound":1,"start":0,"docs":[{"halId_s":"hal-1","doiId_s":"10.5555/tcs.2019.117",
		"fileMain_s":"https://hal.science/hal-1/document","uri_s":"https://hal.science/hal-1",
		"licence_s":"http://creativecommons.org/licenses/by-nc/"}]}}`
	s, f := setup(t, "hal", Config{}, Deps{}, serveBody("/search/", 200, body))
	res, err := lookup(t, s, work(t, "10.5555/tcs.2019.117"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Candidates {
		if c.License != "cc-by-nc" {
			t.Errorf("%s: license %q, want cc-by-nc", c.URL, c.License)
		}
	}
	if fl := f.requests()[0].url.Query().Get("fl"); !strings.Contains(fl, "licence_s") {
		t.Errorf("fl = %q does not ask for licence_s", fl)
	}
}
