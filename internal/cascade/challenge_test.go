package cascade_test

import (
	"context"
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// A challenge wall seen for one work routes every later work of the same
// Cascade around that host: other copies first, and no request to it.
func TestChallengeWallRoutesAroundHostForTheRun(t *testing.T) {
	t.Parallel()
	const (
		landingURL = "https://pub.example.org/landing"
		walledPDF  = "https://pub.example.org/b.pdf"
		otherPDF   = "https://mirror.example.net/b.pdf"
	)
	byWork := map[string][]fulltext.Candidate{
		"10.5555/one":   {{URL: landingURL, Kind: fulltext.KindHTML, Landing: true, Source: "unpaywall"}},
		"10.5555/two":   {{URL: walledPDF, Kind: fulltext.KindPDF, Source: "unpaywall"}, {URL: otherPDF, Kind: fulltext.KindPDF, Source: "unpaywall"}},
		"10.5555/three": {{URL: "https://pub.example.org/c.pdf", Kind: fulltext.KindPDF, Source: "unpaywall"}},
	}
	src := &fakeSource{name: "unpaywall", lookup: func(_ context.Context, w fulltext.Work) (source.Result, error) {
		return source.Result{Candidates: byWork[w.IDs.DOI]}, nil
	}}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}}}}, src)
	b.fetch.answer[landingURL] = page("wall")
	b.fetch.answer[otherPDF] = func(context.Context) (*download.Fetched, error) { return pdf() }

	run := func(doi string) cascade.Result {
		w := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: doi}, IDs: fulltext.IDs{DOI: doi}}
		return c.Run(t.Context(), fulltext.Lease{}, w, download.Hooks{})
	}
	if res := run("10.5555/one"); res.Code != fulltext.CodeBlockedChallenge {
		t.Fatalf("work one: code %s, want blocked-challenge", res.Code)
	}
	if _, ok := c.Challenged()["pub.example.org"]; !ok {
		t.Fatalf("Challenged() = %v, want pub.example.org", c.Challenged())
	}
	res := run("10.5555/two")
	if res.Code != fulltext.CodeOKPDF || res.Candidate.URL != otherPDF {
		t.Errorf("work two: code %s from %q, want ok-pdf from the mirror", res.Code, res.Candidate.URL)
	}
	res = run("10.5555/three")
	if res.Code != fulltext.CodeBlockedChallenge {
		t.Errorf("work three: code %s, want blocked-challenge without a fetch", res.Code)
	}
	fetched := b.fetch.urls()
	if want := []string{landingURL, otherPDF}; !slices.Equal(fetched, want) {
		t.Errorf("fetched %v, want %v (nothing more from the walled host)", fetched, want)
	}
}
