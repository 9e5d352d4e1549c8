package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestCrossrefCandidates(t *testing.T) {
	t.Parallel()
	const pub = "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042"
	tests := []struct {
		name    string
		doi     string
		file    string
		formats []fulltext.Kind
		want    []string
		kinds   []fulltext.Kind
		landing []bool
	}{
		{name: "gold pdf and xml", doi: "10.5555/jsim.2021.0042", file: "crossref_work.json",
			want:    []string{pub + "/pdf", pub + "/xml", pub},
			kinds:   []fulltext.Kind{"pdf", "xml", "html"},
			landing: []bool{false, false, true}},
		{name: "xml first when wanted first", doi: "10.5555/jsim.2021.0042", file: "crossref_work.json",
			formats: []fulltext.Kind{"xml", "pdf"},
			want:    []string{pub + "/xml", pub + "/pdf", pub},
			kinds:   []fulltext.Kind{"xml", "pdf", "html"},
			landing: []bool{false, false, true}},
		{name: "pdf only", doi: "10.5555/jsim.2021.0042", file: "crossref_work.json",
			formats: []fulltext.Kind{"pdf"},
			want:    []string{pub + "/pdf", pub},
			kinds:   []fulltext.Kind{"pdf", "html"},
			landing: []bool{false, true}},
		{name: "closed work keeps its unspecified link", doi: "10.5555/hist.1998.003", file: "crossref_work_closed.json",
			want:    []string{"https://www.example-history-journals.com/doi/pdf/10.5555/hist.1998.003", "https://www.example-history-journals.com/doi/10.5555/hist.1998.003"},
			kinds:   []fulltext.Kind{"pdf", "html"},
			landing: []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "crossref", Config{}, Deps{Mailto: "ops@example.org", Formats: tt.formats},
				serve("/works/"+tt.doi+"?mailto=ops@example.org", 200, tt.file))
			res, err := lookup(t, s, work(t, tt.doi))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			for i, c := range res.Candidates {
				if c.Kind != tt.kinds[i] || c.Landing != tt.landing[i] || c.Source != "crossref" {
					t.Errorf("candidate %d = %+v", i, c)
				}
			}
			if res.Closed || res.Year == 0 || res.Title == "" {
				t.Errorf("result %+v", res)
			}
			if len(f.requests()) != 1 {
				t.Errorf("%d requests", len(f.requests()))
			}
		})
	}
}

func TestCrossrefLinkOrder(t *testing.T) {
	t.Parallel()
	body := `{"status":"ok","message":{"DOI":"10.5555/X","issued":{"date-parts":[[2020]]},
	  "license":[{"URL":"http://creativecommons.org/licenses/by-nc/4.0/","content-version":"am"}],
	  "relation":{"has-preprint":[{"id-type":"doi","id":"10.48550/arXiv.2101.00001"}]},
	  "link":[
	   {"URL":"https://p.example.org/sim.pdf","content-type":"application/pdf","content-version":"vor","intended-application":"similarity-checking"},
	   {"URL":"https://p.example.org/am.pdf","content-type":"application/pdf","content-version":"am","intended-application":"text-mining"},
	   {"URL":"https://p.example.org/tdm.pdf","content-type":"application/pdf","content-version":"vor","intended-application":"text-mining"},
	   {"URL":"https://p.example.org/page.html","content-type":"text/html","content-version":"vor","intended-application":"text-mining"},
	   {"URL":"https://p.example.org/tdm.pdf","content-type":"application/pdf","content-version":"tdm","intended-application":"text-mining"}]}}`
	s, _ := setup(t, "crossref", Config{}, Deps{}, serveBody("/works/10.5555/x", 200, body))
	res, err := lookup(t, s, work(t, "10.5555/x"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://p.example.org/tdm.pdf", "https://p.example.org/sim.pdf", "https://p.example.org/am.pdf"}
	if got := urls(res.Candidates); !slices.Equal(got, want) {
		t.Fatalf("candidates\n got %q\nwant %q", got, want)
	}
	if c := res.Candidates[2]; c.Version != "acceptedVersion" || c.License != "cc-by-nc" {
		t.Errorf("am candidate %+v", c)
	}
	if res.IDs.ArXiv != "2101.00001" || res.Year != 2020 {
		t.Errorf("result %+v", res)
	}
}

func TestCrossrefErrors(t *testing.T) {
	t.Parallel()
	const doi = "10.5555/does-not-exist.0000"
	const path = "/works/" + doi
	w := work(t, doi)
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "crossref", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"not found", serve(path, 404, "crossref_404.txt", "Content-Type", "text/plain"), fulltext.CodeNotFound},
		{"another doi", serve(path, 200, "crossref_work.json"), fulltext.CodeResolverError},
		{"no message", serveBody(path, 200, `{"status":"failed","message-type":"validation-failure"}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "crossref", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "crossref", Config{}, Deps{}, w, path)
	t.Run("datacite doi not applicable", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, "crossref", Config{}, Deps{})
		if s.Applicable(work(t, "10.48550/arXiv.1905.99123")) {
			t.Error("arXiv DOI applicable")
		}
	})
}
