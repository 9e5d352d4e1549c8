package cascade_test

import (
	"context"
	"testing"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// TestVerifyRejectsAndTriesTheNext: a download the wrong-work check
// rejects is aborted and recorded with its code and verdict, and the next
// candidate wins with the check's verdict in its detail.
func TestVerifyRejectsAndTriesTheNext(t *testing.T) {
	t.Parallel()
	src := &fakeSource{name: "unpaywall", lookup: candidates("unpaywall", "https://a.example.org/other.pdf", "https://b.example.org/ours.pdf")}
	var seen []fulltext.Work
	cfg := cascade.Config{
		Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}},
		Verify: func(f *download.Fetched, w fulltext.Work) (string, error) {
			seen = append(seen, w)
			if f.FinalURL == "https://a.example.org/other.pdf" {
				return "work check: mismatch", fulltext.Errorf(fulltext.CodeWrongWork, "work check: mismatch (document declares doi 10.1/y)")
			}
			return "work check: inconclusive", nil
		},
	}
	c, b := setup(t, cfg, src)
	wrong := &fakeTemp{}
	b.fetch.answer["https://a.example.org/other.pdf"] = func(context.Context) (*download.Fetched, error) {
		return &download.Fetched{Kind: fulltext.KindPDF, Status: 200, Temp: wrong, FinalURL: "https://a.example.org/other.pdf"}, nil
	}
	b.fetch.answer["https://b.example.org/ours.pdf"] = func(context.Context) (*download.Fetched, error) {
		return &download.Fetched{Kind: fulltext.KindPDF, Status: 200, Temp: &fakeTemp{}, FinalURL: "https://b.example.org/ours.pdf"}, nil
	}
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeOKPDF || res.Winner == nil || res.Winner.FinalURL != "https://b.example.org/ours.pdf" {
		t.Fatalf("res = %+v", res)
	}
	if !wrong.aborted.Load() {
		t.Error("the rejected download's temp was not aborted")
	}
	var codes []fulltext.Code
	for _, a := range res.Attempts {
		codes = append(codes, a.Code)
		switch a.URL {
		case "https://a.example.org/other.pdf":
			if a.Code != fulltext.CodeWrongWork || a.Detail == "" {
				t.Errorf("rejected attempt: %+v", a)
			}
		case "https://b.example.org/ours.pdf":
			if a.Code != fulltext.CodeOKPDF || a.Detail != "work check: inconclusive" {
				t.Errorf("winning attempt: %+v", a)
			}
		}
	}
	if len(codes) != 3 {
		t.Errorf("attempt codes %v, want lookup, wrong-work, ok-pdf", codes)
	}
	if len(seen) != 2 || seen[0].IDs.DOI != work.IDs.DOI {
		t.Errorf("verify saw %+v", seen)
	}
}

// TestHTMLCandidateThatIsALandingPage is wrong-scope, not no-pdf-link.
func TestHTMLCandidateThatIsALandingPage(t *testing.T) {
	t.Parallel()
	src := &fakeSource{name: "europepmc", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{Candidates: []fulltext.Candidate{{URL: "https://c.example.org/article.html", Kind: fulltext.KindHTML, Source: "europepmc"}}}, nil
	}}
	fetch := &fakeFetcher{answer: map[string]func(context.Context) (*download.Fetched, error){
		"https://c.example.org/article.html": page("abstract only"),
	}}
	abstractOnly := func(string, int, *download.Fetched, fulltext.Work) cascade.Page {
		return cascade.Page{Code: fulltext.CodeNoPDFLink}
	}
	c := cascade.New(cascade.Config{Tiers: []cascade.Tier{{Name: "t", Parallel: 1, Sources: []string{"europepmc"}}}},
		map[string]source.Source{"europepmc": src}, fetch, abstractOnly, nil)
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeWrongScope {
		t.Fatalf("code %s, want wrong-scope: %+v", res.Code, res.Attempts)
	}
}
