package source

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestDirectSources(t *testing.T) {
	t.Parallel()
	record := string(readFixture(t, "openalex_work.json"))
	tests := []struct {
		name    string
		source  string
		id      string
		want    []string
		landing bool
		tech    string
	}{
		{"arxiv new style", "arxiv", "arXiv:1905.99123v2", []string{"https://arxiv.org/pdf/1905.99123"}, false, "arxiv-id"},
		{"arxiv old style", "arxiv", "arXiv:math.GT/0309136", []string{"https://arxiv.org/pdf/math.GT/0309136"}, false, "arxiv-id"},
		{"arxiv from datacite doi", "arxiv", "10.48550/arXiv.2101.00001", []string{"https://arxiv.org/pdf/2101.00001"}, false, "arxiv-id"},
		{"doi", "doi", "10.5555/jsim.2021.0042", []string{"https://doi.org/10.5555/jsim.2021.0042"}, true, "doi-resolve"},
		{"doi with reserved characters", "doi", "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-o",
			[]string{"https://doi.org/10.1002/%28sici%291097-4571%28199806%2949:8%3C693::aid-asi4%3E3.0.co%3B2-o"}, true, "doi-resolve"},
		{"landing from record", "landing", record,
			[]string{"https://repository.example.edu/handle/123456789/4242", "https://arxiv.org/abs/1905.99123", "https://doi.org/10.5555/tcs.2019.117"}, true, "record.landing_page_url"},
		{"landing from a record without landing pages", "landing", `{"id":"https://openalex.org/W1","locations":[{"pdf_url":"https://x.example.org/a.pdf"}]}`, nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.source, Config{}, Deps{Client: new(http.Client)})
			if err != nil {
				t.Fatal(err)
			}
			w := work(t, tt.id)
			res, err := lookup(t, s, w)
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			for _, c := range res.Candidates {
				if c.Landing != tt.landing || c.Technique != tt.tech || c.Source != tt.source {
					t.Errorf("candidate %+v", c)
				}
				if c.Landing && c.Kind != fulltext.KindHTML || !c.Landing && c.Kind != fulltext.KindPDF {
					t.Errorf("kind %q for landing=%v", c.Kind, c.Landing)
				}
			}
		})
	}
}

func TestDirectSourcesNotApplicable(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"arxiv", "doi", "landing"} {
		s, err := New(name, Config{}, Deps{Client: new(http.Client)})
		if err != nil {
			t.Fatal(err)
		}
		w := work(t, "pmid:39990001")
		if s.Applicable(w) {
			t.Errorf("%s applicable to a PMID-only work", name)
		}
		_, err = lookup(t, s, w)
		wantCode(t, err, fulltext.CodeSkipNotApplicable, -1)
	}
}

func TestLandingBadRecord(t *testing.T) {
	t.Parallel()
	s, err := New("landing", Config{}, Deps{Client: new(http.Client)})
	if err != nil {
		t.Fatal(err)
	}
	w := work(t, "10.5555/x")
	w.Record = []byte(`{"locations": 7}`)
	_, err = lookup(t, s, w)
	wantCode(t, err, fulltext.CodeResolverError, -1)
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		s, err := New(name, Config{}, Deps{Client: new(http.Client)})
		if err != nil {
			t.Errorf("New(%q): %v", name, err)
			continue
		}
		if s.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, s.Name())
		}
		if d := DefaultBaseURL(name); d != "" && !strings.HasPrefix(d, "https://") {
			t.Errorf("DefaultBaseURL(%q) = %q", name, d)
		}
	}
	if _, err := New("scihub", Config{}, Deps{Client: new(http.Client)}); err == nil || !strings.Contains(err.Error(), "scihub") {
		t.Errorf("unknown source error = %v", err)
	}
	if _, err := New("openalex", Config{}, Deps{}); err == nil {
		t.Error("New without a client succeeded")
	}
	if got := len(Names()); got != 16 {
		t.Errorf("%d names, want 16", got)
	}
}
