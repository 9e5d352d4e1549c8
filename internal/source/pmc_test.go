package source

import (
	"slices"
	"strings"
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
		{name: "pmcid known", id: "PMC9990001", requests: 2},
		{name: "doi via current idconv", id: "10.5555/jsim.2021.0042", ids: wantIDs, requests: 3,
			opts: []fakeOption{serve(idconvPath+"?idtype=doi&ids=10.5555/jsim.2021.0042&format=json&tool=oafetch&email=ops@example.org", 200, "idconv.json")}},
		{name: "pmid via legacy idconv", id: "pmid:39990001", ids: wantIDs, requests: 4,
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

func TestPMCCloud(t *testing.T) {
	t.Parallel()
	const cloud = "https://pmc-oa-opendata.s3.amazonaws.com/PMC9990001.1/PMC9990001.1."
	tests := []struct {
		name    string
		formats []fulltext.Kind
		list    string
		want    []string
	}{
		{name: "pdf first", list: "pmc_cloud_list.xml", want: []string{cloud + "pdf", "DEPRECATED", "FTP", "ROUTE", cloud + "xml"}},
		{name: "xml first", formats: []fulltext.Kind{"xml", "pdf"}, list: "pmc_cloud_list.xml", want: []string{cloud + "xml", cloud + "pdf", "DEPRECATED", "FTP", "ROUTE"}},
		{name: "latest version is numeric", list: "", want: []string{"https://pmc-oa-opendata.s3.amazonaws.com/PMC9990001.10/PMC9990001.10.pdf", "DEPRECATED", "FTP", "ROUTE",
			"https://pmc-oa-opendata.s3.amazonaws.com/PMC9990001.10/PMC9990001.10.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []fakeOption{
				serve(oaPath, 200, "pmc_oa.xml"),
				serve("/metadata/PMC9990001.1.json", 200, "pmc_cloud_metadata.json"),
			}
			if tt.list != "" {
				opts = append(opts, serve("/?list-type=2&prefix=metadata/PMC9990001.", 200, tt.list))
			} else {
				list := strings.ReplaceAll(string(readFixture(t, "pmc_cloud_list.xml")), "<Contents><Key>metadata/PMC9990001.1.json</Key>",
					"<Contents><Key>metadata/PMC9990001.2.json</Key></Contents><Contents><Key>metadata/PMC9990001.10.json</Key></Contents><Contents><Key>metadata/PMC9990001.1.json</Key>")
				meta := strings.ReplaceAll(string(readFixture(t, "pmc_cloud_metadata.json")), "PMC9990001.1/PMC9990001.1.", "PMC9990001.10/PMC9990001.10.")
				opts = append(opts, serveBody("/", 200, list), serveBody("/metadata/PMC9990001.10.json", 200, meta))
			}
			d := Deps{Formats: tt.formats}
			if len(tt.formats) == 0 {
				d.Formats = []fulltext.Kind{"pdf", "xml"}
			}
			s, _ := setup(t, "pmc", Config{}, d, opts...)
			res, err := lookup(t, s, work(t, "PMC9990001"))
			if err != nil {
				t.Fatal(err)
			}
			repl := strings.NewReplacer(
				"DEPRECATED", "https://ftp.ncbi.nlm.nih.gov/pub/pmc/deprecated/oa_pdf/3c/7a/jsim-12-e0042.PMC9990001.pdf",
				"FTP", "https://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/3c/7a/jsim-12-e0042.PMC9990001.pdf",
				"ROUTE", "https://pmc.ncbi.nlm.nih.gov/articles/PMC9990001/pdf/")
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = repl.Replace(w)
			}
			if got := urls(res.Candidates); !slices.Equal(got, want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, want)
			}
			if c := res.Candidates[0]; c.License != "cc-by" || c.Version != "publishedVersion" || !strings.HasPrefix(c.Technique, "pmc-cloud.") {
				t.Errorf("cloud candidate %+v", c)
			}
		})
	}
}

func TestS3ToHTTPS(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"s3://pmc-oa-opendata/PMC1.1/PMC1.1.pdf?md5=ab":  "https://pmc-oa-opendata.s3.amazonaws.com/PMC1.1/PMC1.1.pdf",
		"https://pmc-oa-opendata.s3.amazonaws.com/x.pdf": "https://pmc-oa-opendata.s3.amazonaws.com/x.pdf",
		"s3://other-bucket/x.pdf":                        "",
		"":                                               "",
	} {
		if got := s3ToHTTPS(in); got != want {
			t.Errorf("s3ToHTTPS(%q) = %q, want %q", in, got, want)
		}
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
