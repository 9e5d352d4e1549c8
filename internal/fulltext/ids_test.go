package fulltext_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestParseID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"bare doi", "10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"doi upper", "10.5555/JSIM.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"doi prefix", "doi:10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"DOI prefix spaced", "DOI: 10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"doi.org https", "https://doi.org/10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"dx.doi.org http", "http://dx.doi.org/10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"doi.org no scheme", "doi.org/10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"url-encoded", "10.5555%2Fjsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"url-encoded in url", "https://doi.org/10.5555%2Fjsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"info doi", "info:doi/10.5555/jsim.2021.0042", "doi:10.5555/jsim.2021.0042"},
		{"trailing period", "10.5555/jsim.2021.0042.", "doi:10.5555/jsim.2021.0042"},
		{"quoted", `"10.5555/x"`, "doi:10.5555/x"},
		{"doi with parens", "10.1002/(SICI)1097-4636(199707)", "doi:10.1002/(sici)1097-4636(199707)"},
		{"pmid", "pmid:39990001", "pmid:39990001"},
		{"PMID upper", "PMID: 39990001", "pmid:39990001"},
		{"pubmed url", "https://pubmed.ncbi.nlm.nih.gov/39990001/", "pmid:39990001"},
		{"pmc", "PMC9990001", "pmcid:PMC9990001"},
		{"pmc lower", "pmc9990001", "pmcid:PMC9990001"},
		{"pmcid prefix", "pmcid:PMC9990001", "pmcid:PMC9990001"},
		{"pmcid digits", "pmcid:9990001", "pmcid:PMC9990001"},
		{"pmc url", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9990001/", "pmcid:PMC9990001"},
		{"pmc new url", "https://pmc.ncbi.nlm.nih.gov/articles/PMC9990001/", "pmcid:PMC9990001"},
		{"arxiv new", "arXiv:1905.99123", "arxiv:1905.99123"},
		{"arxiv version", "arxiv:1905.99123v2", "arxiv:1905.99123"},
		{"arxiv 5 digits", "arXiv:2101.00001v10", "arxiv:2101.00001"},
		{"arxiv old", "arXiv:math/0309999", "arxiv:math/0309999"},
		{"arxiv old sub", "arXiv:math.GT/0309136v1", "arxiv:math.GT/0309136"},
		{"arxiv old dash", "arxiv:hep-th/9901001", "arxiv:hep-th/9901001"},
		{"arxiv abs url", "https://arxiv.org/abs/1905.99123v1", "arxiv:1905.99123"},
		{"arxiv pdf url", "https://arxiv.org/pdf/1905.99123v2.pdf", "arxiv:1905.99123"},
		{"openalex", "W9990000001", "openalex:W9990000001"},
		{"openalex lower", "w9990000001", "openalex:W9990000001"},
		{"openalex url", "https://openalex.org/W9990000001", "openalex:W9990000001"},
		{"openalex api url", "https://api.openalex.org/works/W9990000001", "openalex:W9990000001"},
		{"openalex prefix", "openalex:W9990000001", "openalex:W9990000001"},
		{"whitespace", "  10.5555/x \t", "doi:10.5555/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fulltext.ParseID(tt.in)
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("ParseID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseIDRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "hello", "12345", "10.5555", "10.55/x", "pmid:abc", "PMCabc", "arXiv:19a5.1", "W", "Wabc",
		"https://example.org/paper.pdf", "doi:", "pmid:", "ftp://doi.org/10.5555/x",
	} {
		_, err := fulltext.ParseID(in)
		if err == nil {
			t.Errorf("ParseID(%q): want error", in)
			continue
		}
		if !errors.Is(err, fulltext.ErrBadID) {
			t.Errorf("ParseID(%q): error %v does not wrap ErrBadID", in, err)
		}
	}
}

func TestParseWorkOpenAlexJSON(t *testing.T) {
	t.Parallel()
	line := `{"id":"https://openalex.org/W9990000001","doi":"https://doi.org/10.5555/JSIM.2021.0042","title":"Adaptive Sampling","publication_year":2021,` +
		`"ids":{"openalex":"https://openalex.org/W9990000001","pmid":"https://pubmed.ncbi.nlm.nih.gov/39990001","pmcid":"https://www.ncbi.nlm.nih.gov/pmc/articles/9990001"}}`
	w, err := fulltext.ParseWork(line)
	if err != nil {
		t.Fatal(err)
	}
	want := fulltext.IDs{DOI: "10.5555/jsim.2021.0042", PMID: "39990001", PMCID: "PMC9990001", OpenAlex: "W9990000001"}
	if w.IDs != want {
		t.Errorf("IDs = %+v, want %+v", w.IDs, want)
	}
	if w.ID.String() != "doi:10.5555/jsim.2021.0042" || w.Title != "Adaptive Sampling" || w.Year != 2021 || len(w.Record) == 0 {
		t.Errorf("work = %+v", w)
	}

	w, err = fulltext.ParseWork(`{"id":"https://openalex.org/W42","doi":null}`)
	if err != nil || w.ID.String() != "openalex:W42" {
		t.Errorf("no-doi record: %v %v", w.ID, err)
	}
	if _, err := fulltext.ParseWork(`{"id": 12`); !errors.Is(err, fulltext.ErrBadID) {
		t.Errorf("broken JSON: %v", err)
	}
	if _, err := fulltext.ParseWork(`{"title":"no ids"}`); !errors.Is(err, fulltext.ErrBadID) {
		t.Errorf("record without ids: %v", err)
	}
}

func TestParseWorkSkips(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "   ", "# comment"} {
		if _, err := fulltext.ParseWork(in); !errors.Is(err, fulltext.ErrSkipLine) {
			t.Errorf("ParseWork(%q) = %v, want ErrSkipLine", in, err)
		}
	}
}

func TestArXivDOILearnsArXivID(t *testing.T) {
	t.Parallel()
	w, err := fulltext.ParseWork("https://doi.org/10.48550/arXiv.1905.99123")
	if err != nil {
		t.Fatal(err)
	}
	if w.IDs.ArXiv != "1905.99123" {
		t.Errorf("arXiv id = %q", w.IDs.ArXiv)
	}
}

func TestKeyStable(t *testing.T) {
	t.Parallel()
	a, _ := fulltext.ParseWork("https://doi.org/10.5555/X")
	b, _ := fulltext.ParseWork("doi:10.5555/x")
	if a.Key() != b.Key() || len(a.Key()) != 64 {
		t.Errorf("keys differ: %s %s", a.Key(), b.Key())
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"10.5555/jsim.2021.0042", "https://doi.org/10.5555%2Fx", "pmid:1", "PMC1", "arXiv:math/0309999v2",
		"W1", "https://openalex.org/W1", "info:doi/10.1/x", "{}", "doi:", "%zz", "https://arxiv.org/abs/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := fulltext.ParseID(in)
		if err != nil {
			if !errors.Is(err, fulltext.ErrBadID) {
				t.Fatalf("error does not wrap ErrBadID: %v", err)
			}
			return
		}
		// The canonical form is a fixed point.
		again, err := fulltext.ParseID(id.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", id, in, err)
		}
		if again != id {
			t.Fatalf("canonical form not stable: %q → %q → %q", in, id, again)
		}
		if id.Kind == fulltext.KindDOI && id.Value != strings.ToLower(id.Value) {
			t.Fatalf("DOI not lower-cased: %q", id.Value)
		}
	})
}

func FuzzParseWork(f *testing.F) {
	f.Add(`{"id":"https://openalex.org/W1","doi":"https://doi.org/10.1/X","ids":{"pmcid":123}}`)
	f.Add("10.5555/x")
	f.Fuzz(func(t *testing.T, line string) {
		w, err := fulltext.ParseWork(line)
		if err != nil {
			return
		}
		if w.ID.IsZero() || len(w.Key()) != 64 {
			t.Fatalf("parsed work without id: %+v", w)
		}
	})
}
