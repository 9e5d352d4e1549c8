// Package cascade finds and fetches the full text of one work: it asks the
// sources tier by tier, tries their candidates (following landing pages to
// their full-text links), and stops at the first validated artifact,
// cancelling every sibling still in flight.
package cascade

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/source"
)

// URLLookuper is a source that can ask about arbitrary URLs (the Wayback
// Machine): the cascade gives it the URLs every earlier candidate failed on.
type URLLookuper interface {
	LookupURLs(ctx context.Context, w fulltext.Work, urls []string) (source.Result, error)
}

// Tier is one step of the cascade: its sources run up to Parallel at once.
type Tier struct {
	Name     string
	Parallel int
	Sources  []string
}

// Config configures a Cascade.
type Config struct {
	Tiers []Tier
	// TotalTimeout bounds one work. Defaults to 2m.
	TotalTimeout time.Duration
	// MaxAttempts bounds the candidates fetched for one work. Defaults to 20.
	MaxAttempts int
	// MaxConcurrent bounds the fetches in flight for one work. Defaults to 3.
	MaxConcurrent int
	// Formats are the accepted full-text kinds, preferred first. Defaults to
	// pdf, xml, html.
	Formats []fulltext.Kind
	// MaxLandingDepth bounds landing page → page → link chains. Defaults to 2.
	MaxLandingDepth int
	// DryRun asks the sources and returns their candidates without fetching.
	DryRun bool
	// OnChallenge, if set, is called once per host the first time it
	// serves a challenge wall (code blocked-challenge or blocked-captcha),
	// so that the HTTP stack can refuse every later request to it,
	// redirect hops included (hostpolicy.Policy.Avoid).
	OnChallenge func(host string, code fulltext.Code)
	// Verify, when set, is the wrong-work check of a validated download
	// (download.Downloader.Verify): its detail goes into the attempt, and
	// an error (wrong-work, wrong-scope) rejects the download, whose temp
	// is aborted, and the cascade goes on with the next candidate.
	Verify func(f *download.Fetched, w fulltext.Work) (detail string, err error)
}

// Fetcher fetches one candidate; *download.Downloader implements it.
type Fetcher interface {
	Fetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, hooks download.Hooks) (*download.Fetched, error)
}

// PageAnalyzer turns a fetched HTML page into a verdict and links;
// the landing package provides it.
type PageAnalyzer func(pageURL string, status int, f *download.Fetched, w fulltext.Work) Page

// Page is a landing page's analysis as the cascade needs it.
type Page struct {
	// Code is the verdict's code when the page is not an article page with
	// links (blocked-*, no-pdf-link, ok-html for a full-text HTML page).
	Code  fulltext.Code
	Links []fulltext.Candidate
	// Refresh is a meta-refresh or script redirect target.
	Refresh string
}

// Cascade runs the tiers for one work at a time. Safe for concurrent use.
type Cascade struct {
	cfg     Config
	sources map[string]source.Source
	fetch   Fetcher
	analyze PageAnalyzer
	clock   fulltext.Clock

	// challenged are the hosts that served a challenge wall (a bot check:
	// blocked-challenge or blocked-captcha) to any work of this process,
	// and when. Such a wall guards the whole host, so for the rest of the
	// run every work tries other copies first and sends nothing more to
	// it; its candidates are recorded with the wall's code, unfetched.
	chMu       sync.Mutex
	challenged map[string]wall
}

// wall is a challenge wall a host served: when first, and its code.
type wall struct {
	at   time.Time
	code fulltext.Code
}

// New returns a Cascade over the named sources. Sources absent from the map
// are skipped (disabled).
func New(cfg Config, sources map[string]source.Source, f Fetcher, analyze PageAnalyzer, clock fulltext.Clock) *Cascade {
	cfg.TotalTimeout = cmp.Or(cfg.TotalTimeout, 2*time.Minute)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 20)
	cfg.MaxConcurrent = cmp.Or(cfg.MaxConcurrent, 3)
	cfg.MaxLandingDepth = cmp.Or(cfg.MaxLandingDepth, 2)
	if len(cfg.Formats) == 0 {
		cfg.Formats = []fulltext.Kind{fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML}
	}
	if clock == nil {
		clock = fulltext.SystemClock{}
	}
	return &Cascade{cfg: cfg, sources: sources, fetch: f, analyze: analyze, clock: clock, challenged: map[string]wall{}}
}

// Challenged returns the hosts that served a challenge wall during this
// process's run and when they first did (oafetch hosts shows them).
func (c *Cascade) Challenged() map[string]time.Time {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	out := make(map[string]time.Time, len(c.challenged))
	for h, w := range c.challenged {
		out[h] = w.at
	}
	return out
}

// challengedAt reports the challenge wall host served, if it did.
func (c *Cascade) challengedAt(host string) (wall, bool) {
	c.chMu.Lock()
	defer c.chMu.Unlock()
	w, ok := c.challenged[host]
	return w, ok
}

func (c *Cascade) markChallenged(host string, code fulltext.Code) {
	if host == "" || (code != fulltext.CodeBlockedChallenge && code != fulltext.CodeBlockedCaptcha) {
		return
	}
	c.chMu.Lock()
	_, seen := c.challenged[host]
	if !seen {
		c.challenged[host] = wall{at: c.clock.Now(), code: code}
	}
	c.chMu.Unlock()
	if !seen && c.cfg.OnChallenge != nil {
		c.cfg.OnChallenge(host, code)
	}
}

// routeAround puts the candidates on challenged hosts last, keeping the
// order of the others.
func (c *Cascade) routeAround(cands []fulltext.Candidate) []fulltext.Candidate {
	c.chMu.Lock()
	n := len(c.challenged)
	c.chMu.Unlock()
	if n == 0 {
		return cands
	}
	out := make([]fulltext.Candidate, 0, len(cands))
	var walled []fulltext.Candidate
	for _, cand := range cands {
		if _, ok := c.challengedAt(hostOf(cand.URL)); ok {
			walled = append(walled, cand)
			continue
		}
		out = append(out, cand)
	}
	return append(out, walled...)
}

// Result is the end of one cascade run.
type Result struct {
	// Work is the work with every identifier the sources taught us.
	Work fulltext.Work
	// Winner is the validated download (its Temp not yet committed) and the
	// candidate it came from; nil when nothing was found.
	Winner    *download.Fetched
	Candidate fulltext.Candidate
	// Code is the winner's ok-* code, or the best code of all attempts.
	Code       fulltext.Code
	RetryAfter time.Duration
	Detail     string
	Attempts   []fulltext.Attempt
	// Candidates lists every candidate found (dry runs).
	Candidates []fulltext.Candidate
}

// run is the state of one cascade run.
type run struct {
	c      *Cascade
	lease  fulltext.Lease
	hooks  download.Hooks
	sem    chan struct{}
	cancel context.CancelFunc

	mu         sync.Mutex
	work       fulltext.Work
	seen       map[string]bool
	fetches    int
	attempts   []fulltext.Attempt
	best       fulltext.Code
	bestDetail string
	// bestRetry is the best retryable code of an attempt that ended on its
	// own (rate-limited, server-error…): when the total timeout cuts the
	// rest, the work is retried later rather than failed.
	bestRetry       fulltext.Code
	bestRetryDetail string
	retryAfter      time.Duration
	winner          *download.Fetched
	winCand         fulltext.Candidate
	candidates      []fulltext.Candidate
	blockedHos      map[string]bool
	// failed lists the URLs tried without success, files before pages,
	// for sources that look URLs up (the archive tier).
	failedFiles, failedPages []string
}

// Run walks the tiers for w. Hooks are passed to every download (the worker
// records ledger steps in them); they may be called from several goroutines
// but never concurrently for the same download.
func (c *Cascade) Run(ctx context.Context, l fulltext.Lease, w fulltext.Work, hooks download.Hooks) Result {
	ctx, cancelAll := context.WithTimeoutCause(ctx, c.cfg.TotalTimeout, errTotalTimeout)
	defer cancelAll()
	r := &run{
		c: c, lease: l, hooks: hooks, work: w, cancel: cancelAll,
		sem: make(chan struct{}, c.cfg.MaxConcurrent), seen: map[string]bool{}, blockedHos: map[string]bool{},
	}
	for _, tier := range c.orderTiers(w) {
		if r.done() || ctx.Err() != nil {
			break
		}
		r.runTier(ctx, tier)
	}
	return r.result(ctx)
}

func (r *run) result(ctx context.Context) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Work: r.work, Attempts: r.attempts, Candidates: r.candidates, RetryAfter: r.retryAfter}
	if r.winner != nil {
		res.Winner, res.Candidate = r.winner, r.winCand
		res.Code = okCode(r.winner.Kind)
		return res
	}
	res.Code, res.Detail = r.best, r.bestDetail
	if budgetSpent(ctx) && res.Code.Outcome() != fulltext.OutcomeError {
		res.Code, res.Detail = fulltext.CodeBudgetExhausted, fmt.Sprintf("total timeout %s reached", r.c.cfg.TotalTimeout)
		if r.bestRetry != "" { // a host asked us to come back: the work may succeed later
			res.Code, res.Detail = r.bestRetry, r.bestRetryDetail
		}
	}
	if res.Code == "" {
		res.Code = fulltext.CodeNoOALocation
	}
	if r.c.cfg.DryRun && len(r.candidates) > 0 {
		res.Code = fulltext.CodeSkipNotApplicable
		res.Detail = "dry run"
	}
	return res
}

// errTotalTimeout is the cause of a run's context when its total timeout
// is spent (not when the caller cancels).
var errTotalTimeout = errors.New("cascade: total timeout reached")

func budgetSpent(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errTotalTimeout)
}

// failCode is the code of an attempt that failed with err. An attempt cut
// short by the work's total timeout is budget-exhausted, whatever error the
// cut produced (a timeout or a bare context error): the budget, not the
// remote, ended it, and retrying the work would spend it again.
func (r *run) failCode(ctx context.Context, err error) (fulltext.Code, string) {
	if budgetSpent(ctx) {
		return fulltext.CodeBudgetExhausted, fmt.Sprintf("total timeout %s reached: %v", r.c.cfg.TotalTimeout, err)
	}
	return fulltext.CodeOf(err), err.Error()
}

func okCode(k fulltext.Kind) fulltext.Code {
	switch k {
	case fulltext.KindXML:
		return fulltext.CodeOKXML
	case fulltext.KindHTML:
		return fulltext.CodeOKHTML
	}
	return fulltext.CodeOKPDF
}

func (r *run) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.winner != nil
}

// orderTiers puts, inside each tier, the sources a work's cohort favours
// first: PMC and Europe PMC for works with a PMCID, arXiv for arXiv works.
func (c *Cascade) orderTiers(w fulltext.Work) []Tier {
	out := make([]Tier, 0, len(c.cfg.Tiers))
	for _, t := range c.cfg.Tiers {
		var first, rest []string
		for _, name := range t.Sources {
			switch {
			case name == "arxiv" && w.IDs.ArXiv != "",
				(name == "pmc" || name == "europepmc") && w.IDs.PMCID != "":
				first = append(first, name)
			default:
				rest = append(rest, name)
			}
		}
		t.Sources = append(first, rest...)
		out = append(out, t)
	}
	return out
}

func (r *run) runTier(ctx context.Context, t Tier) {
	tierCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	par := make(chan struct{}, max(t.Parallel, 1))
	var wg sync.WaitGroup
	for _, name := range t.Sources {
		src, ok := r.c.sources[name]
		if !ok {
			continue
		}
		r.mu.Lock()
		w := r.work
		r.mu.Unlock()
		ul, isURLLookuper := src.(URLLookuper)
		if !src.Applicable(w) && !(isURLLookuper && len(r.failedURLs()) > 0) {
			continue
		}
		select {
		case par <- struct{}{}:
		case <-tierCtx.Done():
		}
		if tierCtx.Err() != nil || r.done() {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-par }()
			lookup := src.Lookup
			if isURLLookuper {
				urls := r.failedURLs()
				lookup = func(ctx context.Context, w fulltext.Work) (source.Result, error) {
					if src.Applicable(w) {
						if res, err := src.Lookup(ctx, w); err == nil && len(res.Candidates) > 0 {
							return res, nil
						}
					}
					return ul.LookupURLs(ctx, w, urls)
				}
			}
			r.runSource(tierCtx, src, lookup, cancel)
		}()
	}
	wg.Wait()
}

func (r *run) runSource(ctx context.Context, src source.Source, lookupFn func(context.Context, fulltext.Work) (source.Result, error), winTier context.CancelFunc) {
	r.mu.Lock()
	w := r.work
	r.mu.Unlock()
	start := r.c.clock.Now()
	res, err := lookupFn(ctx, w)
	lookup := fulltext.Attempt{Source: src.Name(), Technique: "lookup", At: start, Duration: r.c.clock.Now().Sub(start)}
	if err != nil {
		if ctx.Err() != nil && r.done() {
			return
		}
		lookup.Code, lookup.Detail = r.failCode(ctx, err)
		var fe *fulltext.Error
		if errors.As(err, &fe) {
			r.noteRetryAfter(fe.RetryAfter)
		}
		r.record(lookup)
		return
	}
	r.mu.Lock()
	r.work.IDs.Merge(res.IDs)
	if r.work.Title == "" {
		r.work.Title = res.Title
	}
	if r.work.Year == 0 {
		r.work.Year = res.Year
	}
	if len(r.work.Record) == 0 {
		r.work.Record = res.Record
	}
	r.mu.Unlock()
	switch {
	case len(res.Candidates) > 0:
		lookup.Detail = fmt.Sprintf("%d candidates", len(res.Candidates))
	default: // closed, or the source knows no location
		lookup.Code = fulltext.CodeNoOALocation
	}
	parent := r.record(lookup)
	for _, cand := range r.c.routeAround(res.Candidates) {
		if ctx.Err() != nil || r.done() {
			return
		}
		if r.tryCandidate(ctx, cand, parent, 0) {
			winTier() // siblings in this tier stop; later tiers see done()
			return
		}
	}
}
