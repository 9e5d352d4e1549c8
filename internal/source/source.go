// Package source turns a work into full-text candidate URLs by asking one
// upstream API per source (OpenAlex, Unpaywall, Crossref, Europe PMC, …).
//
// Sources never fetch full texts or landing pages themselves — the cascade
// does, through the shared polite HTTP client — and never pace or retry:
// per-host pacing, Retry-After, breakers and robots.txt are RoundTripper
// wrappers on Deps.Client. A source makes at most a handful of API calls per
// Lookup and maps every failure to a *fulltext.Error:
//
//	404 / not-found bodies            → not-found
//	429                               → rate-limited (RetryAfter parsed)
//	OpenAlex daily allowance gone     → credits-exhausted
//	5xx                               → server-error
//	timeouts (incl. ctx deadline)     → timeout
//	other transport errors            → network-error (a cancelled ctx
//	                                    too; errors.Is(err,
//	                                    context.Canceled) still holds)
//	codes set by the RoundTripper     → kept (skip-robots, …)
//	malformed, contradictory or
//	errors inside a 200               → resolver-error
//
// A work without an open-access copy is Result{Closed: true} with a nil error.
package source

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Source asks one upstream for a work's full-text candidates.
// Implementations are safe for concurrent use.
type Source interface {
	// Name is the contract name (DESIGN.md §5) of the source.
	Name() string
	// Applicable reports whether the source has the identifiers and
	// credentials it needs for w. Lookup on a work that is not applicable
	// returns a skip-not-applicable error.
	Applicable(w fulltext.Work) bool
	// Lookup asks the upstream about w. It returns a *fulltext.Error on
	// failure (see the package comment for the mapping).
	Lookup(ctx context.Context, w fulltext.Work) (Result, error)
}

// Result is what one source learned about a work.
type Result struct {
	// Candidates are best first; Source, Technique, Kind and, when the
	// upstream says, Version and License are filled. Landing is true for
	// pages to scrape (their Kind is html). URLs are unique within a Result.
	Candidates []fulltext.Candidate
	// IDs are the identifiers learned (e.g. OpenAlex gives the PMCID); the
	// cascade merges them into the work for later sources.
	IDs   fulltext.IDs
	Title string
	Year  int
	// Closed is true when the upstream says the work has no OA copy.
	Closed bool
	// Record is the OpenAlex work object when the source fetched one; the
	// cascade keeps it in Work.Record so that later sources (the Wayback
	// Machine reads every location, dead links included) need not ask again.
	Record json.RawMessage
}

// Deps are the collaborators every source shares.
type Deps struct {
	// Client sends every API request; pacing, retries and robots live in
	// its Transport. Required.
	Client *http.Client
	// Mailto is the contact address sent where an API wants one
	// (Unpaywall requires it; Crossref, OpenAlex and NCBI use it for
	// their polite pools).
	Mailto string
	// UserAgent is sent on every request. Defaults to "oafetch".
	UserAgent string
	// Clock resolves HTTP-date Retry-After values. Defaults to the system
	// clock.
	Clock fulltext.Clock
	// Formats are the full-text kinds wanted, best first. Defaults to
	// pdf, xml, html. Sources that can offer several kinds (crossref, europepmc,
	// pmc) order their candidates by it and skip unwanted XML.
	Formats []fulltext.Kind
	// RateLimit, when set, is called with the source's name after every
	// API answer that carries a parsable X-RateLimit-Remaining header
	// (OpenAlex's daily allowance; any other API that sends the same
	// headers), so the caller can export what is left without the sources
	// knowing about telemetry. It is called from the goroutines that run
	// lookups (concurrently, for several works) and must be cheap and safe
	// for concurrent use. Answers served by the metadata cache carry no
	// such headers and are not reported.
	RateLimit func(api string, rl RateLimit)
}

// Config configures one source.
type Config struct {
	// Enabled is read by the caller that assembles the cascade; New builds
	// the source either way.
	Enabled bool
	// BaseURL is everything before the documented path: scheme://host[:port]
	// and an optional prefix; each source's doc comment names the paths it
	// appends. Defaults to DefaultBaseURL(name). For sources that talk to
	// several hosts (pmc, wayback) every endpoint is addressed under
	// BaseURL when it is set. Candidate URLs (PDFs, landing pages) always
	// keep their real hosts; point the HTTP layer elsewhere with
	// --connect-to instead. For arxiv and doi, which ask no API, BaseURL
	// replaces the host of the candidates they build.
	BaseURL string
	// APIKey is the credential, for the sources that take one (openalex,
	// semanticscholar, core, pmc).
	APIKey string
}

// Names returns every contract source name, in the default order (the
// tiers of DESIGN.md §5 flattened). The caller owns the slice.
func Names() []string {
	return []string{
		"openalex", "unpaywall", "arxiv", "pmc", "europepmc",
		"crossref", "doi", "semanticscholar", "core", "doaj", "zenodo", "hal", "osf", "figshare",
		"landing",
		"wayback",
	}
}

// DefaultBaseURL returns the real API base of the source called name (what
// Config.BaseURL defaults to; for arxiv and doi, the host of the candidates
// they build), or "" for landing, which uses none, and for those that talk to several hosts (pmc:
// pmc.ncbi.nlm.nih.gov and www.ncbi.nlm.nih.gov; wayback: web.archive.org
// and archive.org), which use their real hosts when BaseURL is empty.
func DefaultBaseURL(name string) string {
	switch name {
	case "openalex":
		return "https://api.openalex.org"
	case "unpaywall":
		return "https://api.unpaywall.org"
	case "crossref":
		return "https://api.crossref.org"
	case "europepmc":
		return europePMCDefault
	case "semanticscholar":
		return "https://api.semanticscholar.org"
	case "core":
		return "https://api.core.ac.uk"
	case "doaj":
		return "https://doaj.org"
	case "zenodo":
		return "https://zenodo.org"
	case "hal":
		return "https://api.archives-ouvertes.fr"
	case "osf":
		return "https://api.osf.io"
	case "figshare":
		return "https://api.figshare.com"
	case "arxiv":
		return "https://arxiv.org"
	case "doi":
		return "https://doi.org"
	}
	return ""
}

// New builds the source called name. The error names an unknown source or a
// missing Client.
func New(name string, cfg Config, d Deps) (Source, error) {
	if d.Client == nil {
		return nil, fmt.Errorf("source: new %s: no http client", name)
	}
	d.UserAgent = cmp.Or(d.UserAgent, "oafetch")
	if d.Clock == nil {
		d.Clock = fulltext.SystemClock{}
	}
	if len(d.Formats) == 0 {
		d.Formats = []fulltext.Kind{fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	c := &caller{name: name, deps: d, key: cfg.APIKey}
	switch name {
	case "openalex":
		return newOpenAlex(cfg, c), nil
	case "unpaywall":
		return newUnpaywall(cfg, c), nil
	case "arxiv":
		return &ArXiv{base: cfg.BaseURL}, nil
	case "doi":
		return &DOI{base: cfg.BaseURL}, nil
	case "landing":
		return &Landing{}, nil
	case "crossref":
		return newCrossref(cfg, c), nil
	case "europepmc":
		return newEuropePMC(cfg, c), nil
	case "pmc":
		return newPMC(cfg, c), nil
	case "wayback":
		return newWayback(cfg, c), nil
	case "semanticscholar":
		return newSemanticScholar(cfg, c), nil
	case "core":
		return newCORE(cfg, c), nil
	case "doaj":
		return newDOAJ(cfg, c), nil
	case "zenodo":
		return newZenodo(cfg, c), nil
	case "hal":
		return newHAL(cfg, c), nil
	case "osf":
		return newOSF(cfg, c), nil
	case "figshare":
		return newFigshare(cfg, c), nil
	}
	return nil, fmt.Errorf("source: unknown source %q (known: %s)", name, strings.Join(Names(), ", "))
}

// notApplicable is returned by Lookup on a work the source cannot handle.
func notApplicable(name string) error {
	return fulltext.Errorf(fulltext.CodeSkipNotApplicable, "%s: work lacks the identifiers or credentials it needs", name)
}

// candidates accumulates a Result's candidates: it drops empty and repeated
// URLs and scores them in insertion order (first = highest).
type candidates struct {
	source string
	list   []fulltext.Candidate
	seen   map[string]bool
}

func newCandidates(source string) *candidates {
	return &candidates{source: source, seen: map[string]bool{}}
}

// add appends c unless its URL is empty or already present. Source is set.
func (cs *candidates) add(c fulltext.Candidate) {
	c.URL = strings.TrimSpace(c.URL)
	if c.URL == "" || cs.seen[c.URL] {
		return
	}
	cs.seen[c.URL] = true
	c.Source = cs.source
	if c.Kind == "" {
		c.Kind = fulltext.KindPDF
	}
	if c.Landing {
		c.Kind = fulltext.KindHTML
	}
	cs.list = append(cs.list, c)
}

// done returns the candidates with descending scores.
func (cs *candidates) done() []fulltext.Candidate {
	for i := range cs.list {
		cs.list[i].Score = float64(len(cs.list) - i)
	}
	return cs.list
}
