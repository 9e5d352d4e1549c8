package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const (
	idconvPath = "/tools/idconv/api/v1/articles/"
	legacyPath = "/pmc/utils/idconv/v1.0/"
	oaPath     = "/pmc/utils/oa/oa.fcgi"
)

func TestPMCCandidates(t *testing.T) {
	t.Parallel()
	want := []string{
		"https://ftp.ncbi.nlm.nih.gov/pub/pmc/deprecated/oa_pdf/3c/7a/jsim-12-e0042.PMC9990001.pdf",
		"https://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/3c/7a/jsim-12-e0042.PMC9990001.pdf",
		"https://pmc.ncbi.nlm.nih.gov/articles/PMC9990001/pdf/",
	}
	wantIDs := fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001"}
	tests := []struct {
		name     string
		id       string
		opts     []fakeOption
		ids      fulltext.IDs
		requests int
	}{
		{name: "pmcid known", id: "PMC9990001", requests: 1},
		{name: "doi via current idconv", id: "10.5555/jsim.2021.0042", ids: wantIDs, requests: 2,
			opts: []fakeOption{serve(idconvPath+"?idtype=doi&ids=10.5555/jsim.2021.0042&format=json&tool=oafetch&email=ops@example.org", 200, "idconv.json")}},
		{name: "pmid via legacy idconv", id: "pmid:39990001", ids: wantIDs, requests: 3,
			opts: []fakeOption{
				serveBody(idconvPath, 200, "<html>not json</html>"),
				serve(legacyPath+"?idtype=pmid&ids=39990001", 200, "idconv_v1.0.json"),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := append(slices.Clone(tt.opts), serve(oaPath+"?id=PMC9990001&tool=oafetch", 200, "pmc_oa.xml"))
			s, f := setup(t, "pmc", Config{}, Deps{Mailto: "ops@example.org"}, opts...)
			res, err := lookup(t, s, work(t, tt.id))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, want)
			}
			if c := res.Candidates[0]; c.License != "cc-by" || c.Technique != "oa.fcgi.pdf.deprecated" || c.Kind != fulltext.KindPDF {
				t.Errorf("first candidate %+v", c)
			}
			if res.IDs != tt.ids || res.Closed {
				t.Errorf("ids %+v closed %v", res.IDs, res.Closed)
			}
			if n := len(f.requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestPMCErrors(t *testing.T) {
	t.Parallel()
	pmcWork := work(t, "PMC9990999")
	for _, c := range errorCases(oaPath) {
		if c.name == "malformed json" {
			c.opt = serveBody(oaPath, 200, "<OA><records><record")
		}
		t.Run("oa.fcgi "+c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "pmc", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, pmcWork)
			wantCode(t, err, c.code, c.after)
		})
	}
	others := []struct {
		name string
		id   string
		opts []fakeOption
		code fulltext.Code
	}{
		{"not in PMC", "10.5555/tcs.2019.117", []fakeOption{serve(idconvPath, 200, "idconv.json")}, fulltext.CodeNotFound},
		{"idconv without the record", "10.5555/does-not-exist.0000", []fakeOption{serve(idconvPath, 200, "idconv.json")}, fulltext.CodeNotFound},
		{"idconv 429", "10.5555/jsim.2021.0042", []fakeOption{serve(idconvPath, 429, "eutils_429.json")}, fulltext.CodeRateLimited},
		{"oa.fcgi error code", "PMC9990999", []fakeOption{serveBody(oaPath, 200, `<OA><error code="badArgument">bad</error></OA>`)}, fulltext.CodeResolverError},
		{"oa.fcgi id unknown", "PMC9990999", []fakeOption{serveBody(oaPath, 200, `<OA><error code="idDoesNotExist">no</error></OA>`)}, fulltext.CodeNotFound},
		{"oa.fcgi other record", "PMC9990999", []fakeOption{serve(oaPath, 200, "pmc_oa.xml")}, fulltext.CodeResolverError},
		{"oa.fcgi empty", "PMC9990999", []fakeOption{serveBody(oaPath, 200, `<OA></OA>`)}, fulltext.CodeResolverError},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "pmc", Config{}, Deps{}, c.opts...)
			_, err := lookup(t, s, work(t, c.id))
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "pmc", Config{}, Deps{}, pmcWork, oaPath)
}

func TestPMCNotOpenAccessIsClosed(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, "pmc", Config{APIKey: "K"}, Deps{}, serve(oaPath+"?id=PMC9990999&api_key=K", 200, "pmc_oa_error.xml"))
	res, err := lookup(t, s, work(t, "PMC9990999"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Closed || len(res.Candidates) != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestNCBIFileURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/3c/7a/PMC1.tar.gz",
			[]string{"https://ftp.ncbi.nlm.nih.gov/pub/pmc/deprecated/oa_package/3c/7a/PMC1.tar.gz", "https://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/3c/7a/PMC1.tar.gz"}},
		{"https://ftp.ncbi.nlm.nih.gov/pub/pmc/deprecated/oa_pdf/a.pdf", []string{"https://ftp.ncbi.nlm.nih.gov/pub/pmc/deprecated/oa_pdf/a.pdf"}},
		{"ftp://elsewhere.example.org/a.pdf", nil},
	}
	for _, tt := range tests {
		if got := ncbiFileURLs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ncbiFileURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
