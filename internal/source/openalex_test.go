package source

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestOpenAlexCandidates(t *testing.T) {
	t.Parallel()
	const (
		repoPDF  = "https://repository.example.edu/bitstream/handle/123456789/4242/consensus_aam.pdf"
		arxivPDF = "https://arxiv.org/pdf/1905.99123"
		pubPDF   = "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"
	)
	tests := []struct {
		name     string
		id       string
		path     string
		file     string
		want     []string
		landing  []bool
		wantIDs  fulltext.IDs
		closed   bool
		wantReqQ string // a query parameter the request must carry
	}{
		{
			name: "green by openalex id", id: "W9990000002", path: "/works/W9990000002", file: "openalex_work.json",
			want:    []string{repoPDF, arxivPDF, "https://repository.example.edu/handle/123456789/4242", "https://arxiv.org/abs/1905.99123"},
			landing: []bool{false, false, true, true},
			wantIDs: fulltext.IDs{DOI: "10.5555/tcs.2019.117", OpenAlex: "W9990000002", ArXiv: "1905.99123"},
		},
		{
			name: "gold by doi", id: "10.5555/jsim.2021.0042", path: "/works/doi:10.5555/jsim.2021.0042", file: "openalex_work_gold.json",
			want:    []string{pubPDF, "https://doi.org/10.5555/jsim.2021.0042", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001"},
			landing: []bool{false, true, true},
			wantIDs: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", OpenAlex: "W9990000001", PMID: "39990001", PMCID: "PMC9990001"},
		},
		{
			name: "gold by pmcid", id: "PMC9990001", path: "/works/pmcid:PMC9990001", file: "openalex_work_gold.json",
			want:    []string{pubPDF, "https://doi.org/10.5555/jsim.2021.0042", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001"},
			landing: []bool{false, true, true},
			wantIDs: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", OpenAlex: "W9990000001", PMID: "39990001", PMCID: "PMC9990001"},
		},
		{
			name: "gold by pmid", id: "pmid:39990001", path: "/works/pmid:39990001", file: "openalex_work_gold.json",
			want:    []string{pubPDF, "https://doi.org/10.5555/jsim.2021.0042", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001"},
			landing: []bool{false, true, true},
			wantIDs: fulltext.IDs{DOI: "10.5555/jsim.2021.0042", OpenAlex: "W9990000001", PMID: "39990001", PMCID: "PMC9990001"},
		},
		{
			name: "closed", id: "10.5555/hist.1998.003", path: "/works/doi:10.5555/hist.1998.003", file: "openalex_work_closed.json",
			closed: true, wantIDs: fulltext.IDs{DOI: "10.5555/hist.1998.003", OpenAlex: "W9990000003"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "openalex", Config{APIKey: "TESTKEY"}, Deps{Mailto: "ops@example.org"}, serve(tt.path, 200, tt.file))
			res, err := lookup(t, s, work(t, tt.id))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			for i, c := range res.Candidates {
				if c.Landing != tt.landing[i] || c.Source != "openalex" || c.Technique == "" {
					t.Errorf("candidate %d = %+v, want landing=%v, source openalex, a technique", i, c, tt.landing[i])
				}
				if i > 0 && c.Score >= res.Candidates[i-1].Score {
					t.Errorf("scores not descending at %d", i)
				}
			}
			if res.IDs != tt.wantIDs {
				t.Errorf("IDs = %+v, want %+v", res.IDs, tt.wantIDs)
			}
			if res.Closed != tt.closed || res.Year == 0 || res.Title == "" {
				t.Errorf("closed=%v year=%d title=%q", res.Closed, res.Year, res.Title)
			}
			q := f.requests()[0].url.Query()
			if q.Get("api_key") != "TESTKEY" || q.Get("mailto") != "ops@example.org" {
				t.Errorf("query = %v, want api_key and mailto", q)
			}
		})
	}
}

func TestOpenAlexArXivLocationWithoutPDF(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, "openalex", Config{}, Deps{})
	w := work(t, `{"id":"https://openalex.org/W5","open_access":{"is_oa":true},
	  "locations":[{"is_oa":true,"landing_page_url":"https://arxiv.org/abs/2101.00001v3","pdf_url":null,"version":"submittedVersion"}]}`)
	res, err := lookup(t, s, w)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://arxiv.org/pdf/2101.00001", "https://arxiv.org/abs/2101.00001v3"}
	if got := urls(res.Candidates); !slices.Equal(got, want) || res.IDs.ArXiv != "2101.00001" {
		t.Fatalf("candidates %q ids %+v", got, res.IDs)
	}
}

func TestOpenAlexRecordMakesNoRequest(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "openalex", Config{}, Deps{})
	w := work(t, string(readFixture(t, "openalex_work.json")))
	w.Record = []byte(strings.Join(strings.Fields(string(w.Record)), " "))
	res, err := lookup(t, s, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) == 0 || res.Candidates[0].Technique != "best_oa_location.pdf_url" || res.Candidates[0].Version != "acceptedVersion" || res.Candidates[0].License != "cc-by" {
		t.Fatalf("first candidate = %+v", res.Candidates)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("made %d requests, want 0", n)
	}
}

func TestOpenAlexErrors(t *testing.T) {
	t.Parallel()
	const path = "/works/doi:10.5555/does-not-exist.0000"
	w := work(t, "10.5555/does-not-exist.0000")
	type tc = struct {
		name string
		opt  fakeOption
		code fulltext.Code
	}
	cases := []tc{
		{"not found", serve(path, 404, "openalex_404.json"), fulltext.CodeNotFound},
		{"daily allowance gone", serve(path, 429, "openalex_429.json"), fulltext.CodeCreditsExhausted},
		{"per-second burst 403", serveBody(path, 403, `{"error":"Rate limit exceeded","message":"slow down"}`), fulltext.CodeRateLimited},
		{"bad request", serve(path, 400, "openalex_400.json"), fulltext.CodeResolverError},
		{"not a work", serveBody(path, 200, `{"meta":{}}`), fulltext.CodeResolverError},
		{"another doi", serve(path, 200, "openalex_work_gold.json"), fulltext.CodeResolverError},
	}
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "openalex", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "openalex", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "openalex", Config{}, Deps{}, w, path)
}

func TestOpenAlexApplicable(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, "openalex", Config{}, Deps{})
	if s.Applicable(work(t, "arXiv:1905.99123")) {
		t.Error("arXiv-only work applicable: OpenAlex has no arXiv id form")
	}
	for _, id := range []string{"W1", "10.5555/x", "PMC1", "pmid:1"} {
		if !s.Applicable(work(t, id)) {
			t.Errorf("%s not applicable", id)
		}
	}
}

func TestOpenAlexConcurrentLookups(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "openalex", Config{}, Deps{}, serve("/works/W9990000002", 200, "openalex_work.json"))
	w := work(t, "W9990000002")
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			res, err := s.Lookup(t.Context(), w)
			if err == nil && len(res.Candidates) != 4 {
				err = fulltext.Errorf(fulltext.CodeInternal, "%d candidates", len(res.Candidates))
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(f.requests()); got != n {
		t.Errorf("%d requests, want %d", got, n)
	}
}

func TestCancelledLookupKeepsTheCause(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, "openalex", Config{}, Deps{}, hang("/works/W1"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Lookup(ctx, work(t, "W1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v does not wrap context.Canceled", err)
	}
	wantCode(t, err, fulltext.CodeNetworkError, -1)
}
