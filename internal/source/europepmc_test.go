package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestEuropePMCCandidates(t *testing.T) {
	t.Parallel()
	const (
		render = "https://europepmc.org/articles/PMC9990001?pdf=render"
		pmcPDF = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001/pdf/"
		page   = "https://europepmc.org/articles/PMC9990001"
		pmc    = "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001"
		doi    = "https://doi.org/10.5555/jsim.2021.0042"
	)
	tests := []struct {
		name    string
		id      string
		query   string
		formats []fulltext.Kind
		want    []string // "XML" stands for the fake's fullTextXML URL
	}{
		{name: "by doi, pdf first", id: "10.5555/jsim.2021.0042", query: `DOI:"10.5555/jsim.2021.0042"`,
			want: []string{render, pmcPDF, "XML", page, pmc, doi}},
		{name: "by pmcid, xml wanted first", id: "PMC9990001", query: "PMCID:PMC9990001",
			formats: []fulltext.Kind{"xml", "pdf"}, want: []string{"XML", render, pmcPDF, page, pmc, doi}},
		{name: "by pmid, pdf only", id: "pmid:39990001", query: "EXT_ID:39990001 AND SRC:MED",
			formats: []fulltext.Kind{"pdf"}, want: []string{render, pmcPDF, page, pmc, doi}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "europepmc", Config{}, Deps{Formats: tt.formats},
				serve(europePMCRest+"/search?resultType=core&format=json&query="+urlQueryEscape(tt.query), 200, "europepmc_search.json"))
			res, err := lookup(t, s, work(t, tt.id))
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			if i := slices.Index(want, "XML"); i >= 0 {
				want[i] = f.srv.URL + europePMCRest + "/PMC9990001/fullTextXML"
			}
			if got := urls(res.Candidates); !slices.Equal(got, want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, want)
			}
			for _, c := range res.Candidates {
				wantKind := fulltext.KindPDF
				switch {
				case c.Landing:
					wantKind = fulltext.KindHTML
				case c.Technique == "fullTextXML":
					wantKind = fulltext.KindXML
				}
				if c.Kind != wantKind || c.License != "cc-by" {
					t.Errorf("candidate %+v", c)
				}
			}
			wantIDs := fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001"}
			if res.IDs != wantIDs || res.Year != 2021 || res.Closed {
				t.Errorf("result ids %+v year %d closed %v", res.IDs, res.Year, res.Closed)
			}
		})
	}
}

func TestEuropePMCErrors(t *testing.T) {
	t.Parallel()
	const path = europePMCRest + "/search"
	w := work(t, "10.5555/hist.1998.003")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "europepmc", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}{
		{"no hit", serve(path, 200, "europepmc_search_empty.json"), fulltext.CodeNotFound},
		{"error inside 200", serve(path, 200, "europepmc_error.json"), fulltext.CodeResolverError},
		{"hit for another work", serve(path, 200, "europepmc_search.json"), fulltext.CodeResolverError},
		{"no result list", serveBody(path, 200, `{"version":"6.9","hitCount":1}`), fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "europepmc", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "europepmc", Config{}, Deps{}, w, path)
}

func TestEuropePMCClosed(t *testing.T) {
	t.Parallel()
	body := `{"hitCount":1,"resultList":{"result":[{"id":"1","source":"MED","pmid":"1","doi":"10.5555/hist.1998.003","title":"T.","pubYear":"1998",
	  "isOpenAccess":"N","inEPMC":"N","hasPDF":"N",
	  "fullTextUrlList":{"fullTextUrl":[{"availabilityCode":"S","documentStyle":"pdf","site":"Publisher","url":"https://p.example.org/x.pdf"}]}}]}}`
	s, _ := setup(t, "europepmc", Config{}, Deps{}, serveBody(europePMCRest+"/search", 200, body))
	res, err := lookup(t, s, work(t, "10.5555/hist.1998.003"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Closed || len(res.Candidates) != 0 || res.IDs.PMID != "1" {
		t.Fatalf("result %+v", res)
	}
}
