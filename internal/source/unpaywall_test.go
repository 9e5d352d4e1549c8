package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestUnpaywallCandidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doi     string
		file    string
		want    []string
		landing []bool
		closed  bool
	}{
		{
			name: "green", doi: "10.5555/tcs.2019.117", file: "unpaywall.json",
			want: []string{
				"https://repository.example.edu/bitstream/handle/123456789/4242/consensus_aam.pdf",
				"https://arxiv.org/pdf/1905.99123",
				"https://core.ac.uk/download/999000123.pdf",
				"https://repository.example.edu/handle/123456789/4242",
				"https://arxiv.org/abs/1905.99123",
				"https://core.ac.uk/works/159990123",
			},
			landing: []bool{false, false, false, true, true, true},
		},
		{
			name: "gold", doi: "10.5555/jsim.2021.0042", file: "unpaywall_gold.json",
			want: []string{
				"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf",
				"https://europepmc.org/articles/pmc9990001?pdf=render",
				"https://doi.org/10.5555/jsim.2021.0042",
				"https://europepmc.org/articles/pmc9990001",
				"https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001",
			},
			landing: []bool{false, false, true, true, true},
		},
		{name: "closed", doi: "10.5555/hist.1998.003", file: "unpaywall_closed.json", closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "unpaywall", Config{}, Deps{Mailto: "ops@example.org"},
				serve("/v2/"+tt.doi+"?email=ops@example.org", 200, tt.file))
			res, err := lookup(t, s, work(t, tt.doi))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			for i, c := range res.Candidates {
				if c.Landing != tt.landing[i] || c.Source != "unpaywall" || c.Version == "" {
					t.Errorf("candidate %d = %+v", i, c)
				}
			}
			if res.Closed != tt.closed || res.Year == 0 {
				t.Errorf("closed = %v, year = %d", res.Closed, res.Year)
			}
			if len(res.Candidates) > 0 && res.Candidates[0].Technique != "best_oa_location.url_for_pdf" {
				t.Errorf("first technique = %q", res.Candidates[0].Technique)
			}
			if got := f.requests()[0].url.Query().Get("email"); got != "ops@example.org" {
				t.Errorf("email = %q", got)
			}
		})
	}
}

func TestUnpaywallErrors(t *testing.T) {
	t.Parallel()
	const doi = "10.5555/does-not-exist.0000"
	const path = "/v2/" + doi
	w := work(t, doi)
	d := Deps{Mailto: "ops@example.org"}
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "unpaywall", Config{}, d, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"not found", serve(path, 404, "unpaywall_404.json"), fulltext.CodeNotFound},
		{"placeholder email", serve(path, 422, "unpaywall_422.json"), fulltext.CodeResolverError},
		{"another doi", serve(path, 200, "unpaywall.json"), fulltext.CodeResolverError},
		{"oa without locations", serveBody(path, 200, `{"doi":"`+doi+`","is_oa":true,"oa_locations":[]}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "unpaywall", Config{}, d, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "unpaywall", Config{}, d, w, path)
}

func TestUnpaywallNeedsMailto(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "unpaywall", Config{}, Deps{})
	w := work(t, "10.5555/tcs.2019.117")
	if s.Applicable(w) {
		t.Fatal("applicable without a mailto")
	}
	_, err := lookup(t, s, w)
	wantCode(t, err, fulltext.CodeSkipNotApplicable, -1)
	if len(f.requests()) != 0 {
		t.Fatal("asked Unpaywall without a mailto")
	}
}
