package cascade_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// defaultTiers mirrors DESIGN.md §5's tiers.
var defaultTiers = []cascade.Tier{
	{Name: "direct_oa", Parallel: 2, Sources: []string{"openalex", "unpaywall", "arxiv", "pmc", "europepmc"}},
	{Name: "doi_follow", Parallel: 1, Sources: []string{"crossref", "doi", "semanticscholar", "core", "doaj", "zenodo", "hal", "osf", "figshare"}},
	{Name: "landing_scrape", Parallel: 1, Sources: []string{"landing"}},
	{Name: "archive", Parallel: 1, Sources: []string{"wayback"}},
}

// BenchmarkCascade measures what the cascade itself costs per work: the
// sources and the fetcher answer from memory at once, so every nanosecond
// is tiers, goroutines, de-duplication, budgets and attempt records — the
// time a real run adds beyond the network.
//
//   - first-tier-win: one of the first tier's sources has the PDF.
//   - archive-win: every source of the first three tiers offers a
//     candidate that fails (16 lookups, 15 failed fetches); the archive
//     tier wins.
func BenchmarkCascade(b *testing.B) {
	for _, bc := range []struct {
		name   string
		winner string
	}{
		{"first-tier-win", "unpaywall"},
		{"archive-win", "wayback"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fetch := &fakeFetcher{answer: map[string]func(context.Context) (*download.Fetched, error){}}
			m := map[string]source.Source{}
			for _, t := range defaultTiers {
				for _, name := range t.Sources {
					u := fmt.Sprintf("https://%s.example.org/x.pdf", name)
					m[name] = &fakeSource{name: name, lookup: candidates(name, u)}
					if name == bc.winner {
						fetch.answer[u] = func(context.Context) (*download.Fetched, error) { return pdf() }
					}
				}
			}
			c := cascade.New(cascade.Config{Tiers: defaultTiers, MaxAttempts: 50}, m, fetch, analyzer, nil)
			b.ReportAllocs()
			for b.Loop() {
				res := c.Run(b.Context(), fulltext.Lease{}, work, download.Hooks{})
				if res.Winner == nil || res.Candidate.Source != bc.winner {
					b.Fatalf("won by %q (%s), want %s", res.Candidate.Source, res.Code, bc.winner)
				}
				fetch.mu.Lock()
				fetch.fetched = fetch.fetched[:0] // the fake's log would grow without bound
				fetch.mu.Unlock()
			}
		})
	}
}
