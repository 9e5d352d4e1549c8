package cascade_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// fakeSource answers Lookup from a function.
type fakeSource struct {
	name   string
	lookup func(ctx context.Context, w fulltext.Work) (source.Result, error)
	calls  atomic.Int32
}

func (s *fakeSource) Name() string                  { return s.name }
func (s *fakeSource) Applicable(fulltext.Work) bool { return true }
func (s *fakeSource) Lookup(ctx context.Context, w fulltext.Work) (source.Result, error) {
	s.calls.Add(1)
	return s.lookup(ctx, w)
}

func candidates(src string, urls ...string) func(context.Context, fulltext.Work) (source.Result, error) {
	return func(context.Context, fulltext.Work) (source.Result, error) {
		var r source.Result
		for _, u := range urls {
			r.Candidates = append(r.Candidates, fulltext.Candidate{URL: u, Kind: fulltext.KindPDF, Source: src})
		}
		return r, nil
	}
}

// fakeTemp is a TempArtifact that records Abort.
type fakeTemp struct{ aborted atomic.Bool }

func (t *fakeTemp) Write(p []byte) (int, error) { return len(p), nil }
func (t *fakeTemp) Name() string                { return "tmp" }
func (t *fakeTemp) Size() int64                 { return 0 }
func (t *fakeTemp) Abort() error                { t.aborted.Store(true); return nil }

// fakeFetcher answers Fetch by URL.
type fakeFetcher struct {
	mu      sync.Mutex
	fetched []string
	answer  map[string]func(ctx context.Context) (*download.Fetched, error)
}

func (f *fakeFetcher) Fetch(ctx context.Context, _ fulltext.Lease, c fulltext.Candidate, _ download.Hooks) (*download.Fetched, error) {
	f.mu.Lock()
	f.fetched = append(f.fetched, c.URL)
	fn := f.answer[c.URL]
	f.mu.Unlock()
	if fn == nil {
		return nil, &fulltext.Error{Code: fulltext.CodeNotFound}
	}
	return fn(ctx)
}

func (f *fakeFetcher) urls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.fetched...)
}

func pdf() (*download.Fetched, error) {
	return &download.Fetched{Kind: fulltext.KindPDF, Status: 200, Temp: &fakeTemp{}, Bytes: 100}, nil
}

func page(body string) func(context.Context) (*download.Fetched, error) {
	return func(context.Context) (*download.Fetched, error) {
		return &download.Fetched{Kind: fulltext.KindHTML, Status: 200, Page: []byte(body), FinalURL: "https://pub.example.org/landing"}, nil
	}
}

// analyzer treats the page body as the verdict: "wall" → blocked-challenge,
// anything else → a link to that URL.
func analyzer(_ string, _ int, f *download.Fetched, _ fulltext.Work) cascade.Page {
	if string(f.Page) == "wall" {
		return cascade.Page{Code: fulltext.CodeBlockedChallenge}
	}
	return cascade.Page{Links: []fulltext.Candidate{{URL: string(f.Page), Kind: fulltext.KindPDF, Technique: "citation_pdf_url"}}}
}

type bundle struct {
	fetch   *fakeFetcher
	sources map[string]*fakeSource
}

func setup(t *testing.T, cfg cascade.Config, srcs ...*fakeSource) (*cascade.Cascade, *bundle) {
	t.Helper()
	b := &bundle{fetch: &fakeFetcher{answer: map[string]func(context.Context) (*download.Fetched, error){}}, sources: map[string]*fakeSource{}}
	m := map[string]source.Source{}
	for _, s := range srcs {
		m[s.name] = s
		b.sources[s.name] = s
	}
	return cascade.New(cfg, m, b.fetch, analyzer, nil), b
}

var work = fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/x"}, IDs: fulltext.IDs{DOI: "10.5555/x"}}

func TestFirstTierWinStopsLaterTiers(t *testing.T) {
	t.Parallel()
	a := &fakeSource{name: "unpaywall", lookup: candidates("unpaywall", "https://a.example.org/x.pdf")}
	late := &fakeSource{name: "wayback", lookup: candidates("wayback", "https://web.archive.org/x.pdf")}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{
		{Name: "direct_oa", Parallel: 1, Sources: []string{"unpaywall"}},
		{Name: "archive", Parallel: 1, Sources: []string{"wayback"}},
	}}, a, late)
	b.fetch.answer["https://a.example.org/x.pdf"] = func(context.Context) (*download.Fetched, error) { return pdf() }
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeOKPDF || res.Winner == nil || res.Candidate.Source != "unpaywall" {
		t.Fatalf("res = %+v", res)
	}
	if late.calls.Load() != 0 {
		t.Errorf("archive tier asked after a win")
	}
}

func TestFallsThroughTiersAndKeepsBestCode(t *testing.T) {
	t.Parallel()
	rl := &fakeSource{name: "unpaywall", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: 30 * time.Second}
	}}
	nf := &fakeSource{name: "crossref", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeNotFound}
	}}
	c, _ := setup(t, cascade.Config{Tiers: []cascade.Tier{
		{Name: "a", Parallel: 1, Sources: []string{"unpaywall"}},
		{Name: "b", Parallel: 1, Sources: []string{"crossref"}},
	}}, rl, nf)
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeRateLimited || res.RetryAfter != 30*time.Second {
		t.Errorf("code = %s retry-after %s, want rate-limited 30s", res.Code, res.RetryAfter)
	}
	if nf.calls.Load() != 1 {
		t.Errorf("second tier not asked")
	}
	if len(res.Attempts) != 2 {
		t.Errorf("attempts = %+v", res.Attempts)
	}
}

func TestNoSourcesIsNoOALocation(t *testing.T) {
	t.Parallel()
	closed := &fakeSource{name: "unpaywall", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{Closed: true}, nil
	}}
	c, _ := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"unpaywall", "missing"}}}}, closed)
	if res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{}); res.Code != fulltext.CodeNoOALocation {
		t.Errorf("code = %s", res.Code)
	}
}

func TestParallelSiblingCancelledOnWin(t *testing.T) {
	t.Parallel()
	slow := &fakeSource{name: "openalex", lookup: candidates("openalex", "https://slow.example.org/x.pdf")}
	fast := &fakeSource{name: "unpaywall", lookup: candidates("unpaywall", "https://fast.example.org/x.pdf")}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 2, Sources: []string{"openalex", "unpaywall"}}}}, slow, fast)
	started := make(chan struct{})
	cancelled := make(chan struct{})
	b.fetch.answer["https://slow.example.org/x.pdf"] = func(ctx context.Context) (*download.Fetched, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil, &fulltext.Error{Code: fulltext.CodeTimeout, Err: ctx.Err()}
	}
	b.fetch.answer["https://fast.example.org/x.pdf"] = func(ctx context.Context) (*download.Fetched, error) {
		select {
		case <-started: // the slow sibling is in flight
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return pdf()
	}
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeOKPDF || res.Candidate.Source != "unpaywall" {
		t.Fatalf("res = %+v", res)
	}
	select {
	case <-cancelled:
	default:
		t.Fatal("Run returned before the losing sibling was cancelled")
	}
	for _, a := range res.Attempts {
		if a.Code == fulltext.CodeTimeout {
			t.Errorf("cancelled sibling recorded as a timeout: %+v", a)
		}
	}
}

func TestDuplicateURLsFetchedOnce(t *testing.T) {
	t.Parallel()
	a := &fakeSource{name: "openalex", lookup: candidates("openalex", "https://Pub.Example.org:443/x.pdf#page=1")}
	b2 := &fakeSource{name: "unpaywall", lookup: candidates("unpaywall", "http://pub.example.org/x.pdf")}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"openalex", "unpaywall"}}}}, a, b2)
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if got := b.fetch.urls(); len(got) != 1 {
		t.Errorf("fetched %v, want one fetch", got)
	}
	if res.Code != fulltext.CodeNotFound {
		t.Errorf("code = %s", res.Code)
	}
}

func TestMaxAttemptsBudget(t *testing.T) {
	t.Parallel()
	a := &fakeSource{name: "openalex", lookup: candidates("openalex", "https://a.example.org/1", "https://a.example.org/2", "https://a.example.org/3")}
	c, b := setup(t, cascade.Config{MaxAttempts: 2, Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"openalex"}}}}, a)
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if n := len(b.fetch.urls()); n != 2 {
		t.Errorf("fetched %d, want 2", n)
	}
	if res.Code != fulltext.CodeBudgetExhausted {
		t.Errorf("code = %s, want budget-exhausted", res.Code)
	}
}

func TestTotalTimeoutBudget(t *testing.T) {
	t.Parallel()
	a := &fakeSource{name: "openalex", lookup: func(ctx context.Context, _ fulltext.Work) (source.Result, error) {
		<-ctx.Done()
		return source.Result{}, &fulltext.Error{Code: fulltext.CodeNoPDFLink, Err: ctx.Err()}
	}}
	c, _ := setup(t, cascade.Config{TotalTimeout: 50 * time.Millisecond, Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"openalex"}}}}, a)
	if res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{}); res.Code != fulltext.CodeBudgetExhausted {
		t.Errorf("code = %s, want budget-exhausted", res.Code)
	}
}

func TestLandingPageLinkIsFollowed(t *testing.T) {
	t.Parallel()
	d := &fakeSource{name: "doi", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{Candidates: []fulltext.Candidate{{URL: "https://doi.org/10.5555/x", Landing: true, Kind: fulltext.KindHTML, Source: "doi"}}}, nil
	}}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"doi"}}}}, d)
	b.fetch.answer["https://doi.org/10.5555/x"] = page("https://pub.example.org/x.pdf")
	b.fetch.answer["https://pub.example.org/x.pdf"] = func(context.Context) (*download.Fetched, error) { return pdf() }
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeOKPDF || res.Candidate.Referer != "https://pub.example.org/landing" || res.Candidate.Source != "doi" {
		t.Fatalf("res = %+v", res)
	}
	last := res.Attempts[len(res.Attempts)-1]
	if last.Parent == 0 || last.Technique != "citation_pdf_url" {
		t.Errorf("winning attempt not linked to its landing page: %+v", last)
	}
}

func TestWallIsReportedAndHostAvoided(t *testing.T) {
	t.Parallel()
	d := &fakeSource{name: "doi", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{Candidates: []fulltext.Candidate{
			{URL: "https://doi.org/10.5555/x", Landing: true, Kind: fulltext.KindHTML, Source: "doi"},
			{URL: "https://pub.example.org/other.pdf", Kind: fulltext.KindPDF, Source: "doi"},
		}}, nil
	}}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 1, Sources: []string{"doi"}}}}, d)
	b.fetch.answer["https://doi.org/10.5555/x"] = page("wall")
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeBlockedChallenge {
		t.Errorf("code = %s", res.Code)
	}
	for _, u := range b.fetch.urls() {
		if u == "https://pub.example.org/other.pdf" {
			t.Errorf("fetched from a host that served a wall")
		}
	}
}

func TestLateWinnerIsAborted(t *testing.T) {
	t.Parallel()
	temps := []*fakeTemp{{}, {}}
	var n atomic.Int32
	var barrier sync.WaitGroup // both fetches complete before either is judged
	barrier.Add(2)
	a := &fakeSource{name: "openalex", lookup: candidates("openalex", "https://a.example.org/x.pdf")}
	b2 := &fakeSource{name: "unpaywall", lookup: candidates("unpaywall", "https://b.example.org/x.pdf")}
	c, b := setup(t, cascade.Config{Tiers: []cascade.Tier{{Name: "a", Parallel: 2, Sources: []string{"openalex", "unpaywall"}}}}, a, b2)
	answer := func(context.Context) (*download.Fetched, error) {
		tmp := temps[n.Add(1)-1]
		barrier.Done()
		barrier.Wait()
		return &download.Fetched{Kind: fulltext.KindPDF, Temp: tmp}, nil
	}
	b.fetch.answer["https://a.example.org/x.pdf"] = answer
	b.fetch.answer["https://b.example.org/x.pdf"] = answer
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Winner == nil {
		t.Fatal("no winner")
	}
	aborted := 0
	for _, tmp := range temps {
		if tmp.aborted.Load() {
			aborted++
			if tmp == res.Winner.Temp {
				t.Error("the winner's temp was aborted")
			}
		}
	}
	if aborted != 1 {
		t.Errorf("aborted %d temps, want the loser's only", aborted)
	}
}

// fakeArchive is a URLLookuper that is not applicable on its own.
type fakeArchive struct {
	fakeSource
	asked []string
}

func (a *fakeArchive) Applicable(fulltext.Work) bool { return false }
func (a *fakeArchive) LookupURLs(_ context.Context, _ fulltext.Work, urls []string) (source.Result, error) {
	a.asked = urls
	return source.Result{Candidates: []fulltext.Candidate{{URL: "https://web.archive.org/web/2005id_/" + urls[0], Kind: fulltext.KindPDF, Source: "wayback"}}}, nil
}

func TestArchiveAsksAboutFailedURLs(t *testing.T) {
	t.Parallel()
	pub := &fakeSource{name: "crossref", lookup: func(context.Context, fulltext.Work) (source.Result, error) {
		return source.Result{Candidates: []fulltext.Candidate{
			{URL: "https://pub.example.org/landing", Landing: true, Kind: fulltext.KindHTML, Source: "crossref"},
			{URL: "https://pub.example.org/gone.pdf", Kind: fulltext.KindPDF, Source: "crossref"},
		}}, nil
	}}
	arch := &fakeArchive{fakeSource: fakeSource{name: "wayback"}}
	_, b := setup(t, cascade.Config{}, pub)
	c := cascade.New(cascade.Config{Tiers: []cascade.Tier{
		{Name: "doi_follow", Parallel: 1, Sources: []string{"crossref"}},
		{Name: "archive", Parallel: 1, Sources: []string{"wayback"}},
	}}, map[string]source.Source{"crossref": pub, "wayback": arch}, b.fetch, analyzer, nil)
	b.fetch.answer["https://pub.example.org/landing"] = page("wall")
	b.fetch.answer["https://web.archive.org/web/2005id_/https://pub.example.org/gone.pdf"] = func(context.Context) (*download.Fetched, error) { return pdf() }
	res := c.Run(t.Context(), fulltext.Lease{}, work, download.Hooks{})
	if res.Code != fulltext.CodeOKPDF || res.Candidate.Source != "wayback" {
		t.Fatalf("res = %+v", res)
	}
	if len(arch.asked) != 2 || arch.asked[0] != "https://pub.example.org/gone.pdf" || arch.asked[1] != "https://pub.example.org/landing" {
		t.Errorf("archive asked about %v, want the failed file first, then the page", arch.asked)
	}
}
