package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestSemanticScholarCandidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string
		path    string
		file    string
		want    []string
		license string
		ids     fulltext.IDs
		closed  bool
	}{
		{name: "gold", id: "10.5555/jsim.2021.0042", path: "/graph/v1/paper/DOI:10.5555/jsim.2021.0042", file: "s2_paper.json",
			want: []string{"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"}, license: "cc-by",
			ids: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001"}},
		{name: "green by arxiv", id: "arXiv:1905.99123", path: "/graph/v1/paper/ARXIV:1905.99123", file: "s2_paper_green.json",
			want: []string{"https://arxiv.org/pdf/1905.99123"},
			ids:  fulltext.IDs{DOI: "10.5555/tcs.2019.117", ArXiv: "1905.99123"}},
		{name: "closed has an empty url", id: "10.5555/hist.1998.003", path: "/graph/v1/paper/DOI:10.5555/hist.1998.003", file: "s2_paper_closed.json",
			closed: true, ids: fulltext.IDs{DOI: "10.5555/hist.1998.003"}},
		{name: "by pmcid", id: "PMC9990001", path: "/graph/v1/paper/PMCID:9990001", file: "s2_paper.json",
			want: []string{"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"}, license: "cc-by",
			ids: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "semanticscholar", Config{APIKey: "TESTKEY"}, Deps{}, serve(tt.path+"?fields="+urlQueryEscape(s2Fields), 200, tt.file))
			res, err := lookup(t, s, work(t, tt.id))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			if len(res.Candidates) > 0 && (res.Candidates[0].License != tt.license || res.Candidates[0].Technique != "openAccessPdf") {
				t.Errorf("candidate %+v", res.Candidates[0])
			}
			if res.IDs != tt.ids || res.Closed != tt.closed || res.Year == 0 {
				t.Errorf("ids %+v closed %v year %d", res.IDs, res.Closed, res.Year)
			}
			if got := f.requests()[0].header.Get("X-Api-Key"); got != "TESTKEY" {
				t.Errorf("x-api-key = %q", got)
			}
		})
	}
}

func TestSemanticScholarAbsRewritten(t *testing.T) {
	t.Parallel()
	body := `{"paperId":"x","externalIds":{"ArXiv":"1905.99123"},"isOpenAccess":true,"openAccessPdf":{"url":"https://arxiv.org/abs/1905.99123","license":"CCBYNCND"}}`
	s, f := setup(t, "semanticscholar", Config{}, Deps{}, serveBody("/graph/v1/paper/ARXIV:1905.99123", 200, body))
	res, err := lookup(t, s, work(t, "arXiv:1905.99123"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 1 || res.Candidates[0].URL != "https://arxiv.org/pdf/1905.99123" || res.Candidates[0].License != "cc-by-nc-nd" {
		t.Fatalf("candidates %+v", res.Candidates)
	}
	if f.requests()[0].header.Get("X-Api-Key") != "" {
		t.Error("sent an empty api key")
	}
}

func TestSemanticScholarErrors(t *testing.T) {
	t.Parallel()
	const path = "/graph/v1/paper/DOI:10.5555/does-not-exist.0000"
	w := work(t, "10.5555/does-not-exist.0000")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "semanticscholar", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"not found", serve(path, 404, "s2_404.json"), fulltext.CodeNotFound},
		{"429 body", serve(path, 429, "s2_429.json"), fulltext.CodeRateLimited},
		{"bad fields", serveBody(path, 400, `{"error":"Unrecognized or unsupported fields: x"}`), fulltext.CodeResolverError},
		{"another doi", serve(path, 200, "s2_paper.json"), fulltext.CodeResolverError},
		{"not a paper", serveBody(path, 200, `{"data":[]}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "semanticscholar", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "semanticscholar", Config{}, Deps{}, w, path)
}
