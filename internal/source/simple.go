package source

import (
	"cmp"
	"context"
	"encoding/json"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// ArXiv builds the PDF URL of a work with an arXiv id straight from the id
// (apis.md §6.1) without asking the export API, whose terms allow one call
// every 3 seconds. Safe for concurrent use.
type ArXiv struct {
	// base is the abs/pdf host. Defaults to https://arxiv.org.
	base string
}

// Name returns "arxiv".
func (a *ArXiv) Name() string { return "arxiv" }

// Applicable reports whether w has an arXiv id (one learned from a
// 10.48550/arXiv.* DOI counts).
func (a *ArXiv) Applicable(w fulltext.Work) bool { return w.IDs.ArXiv != "" }

// Lookup returns https://arxiv.org/pdf/{id} (the latest version). It makes
// no request.
func (a *ArXiv) Lookup(_ context.Context, w fulltext.Work) (Result, error) {
	if !a.Applicable(w) {
		return Result{}, notApplicable(a.Name())
	}
	b := cmp.Or(a.base, DefaultBaseURL(a.Name()))
	cs := newCandidates(a.Name())
	cs.add(fulltext.Candidate{URL: b + "/pdf/" + w.IDs.ArXiv, Technique: "arxiv-id", Version: "submittedVersion"})
	return Result{Candidates: cs.done()}, nil
}

// DOI offers the doi.org resolution of a work's DOI as a landing page to
// scrape (technique "doi-resolve"). It makes no request. Safe for
// concurrent use.
type DOI struct {
	// base is the resolver. Defaults to https://doi.org.
	base string
}

// Name returns "doi".
func (d *DOI) Name() string { return "doi" }

// Applicable reports whether w has a DOI.
func (d *DOI) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" }

// Lookup returns one Landing candidate, https://doi.org/{doi}, with the DOI
// escaped by the DOI Handbook rules (slashes kept).
func (d *DOI) Lookup(_ context.Context, w fulltext.Work) (Result, error) {
	if !d.Applicable(w) {
		return Result{}, notApplicable(d.Name())
	}
	b := cmp.Or(d.base, DefaultBaseURL(d.Name()))
	cs := newCandidates(d.Name())
	cs.add(fulltext.Candidate{URL: b + "/" + escapeDOIPath(w.IDs.DOI), Technique: "doi-resolve", Landing: true})
	return Result{Candidates: cs.done()}, nil
}

// Landing offers the landing pages named in the OpenAlex record the input
// carried (best_oa_location, locations[], primary_location
// landing_page_url), OA locations first, for scraping. A record without
// landing pages gives an empty Result; a work without a record is not
// applicable. It makes no request. Safe for concurrent use.
type Landing struct{}

// Name returns "landing".
func (l *Landing) Name() string { return "landing" }

// Applicable reports whether w carries an OpenAlex record.
func (l *Landing) Applicable(w fulltext.Work) bool { return len(w.Record) > 0 }

// Lookup returns the record's landing pages as Landing candidates. A
// record that is not JSON is resolver-error.
func (l *Landing) Lookup(_ context.Context, w fulltext.Work) (Result, error) {
	if len(w.Record) == 0 {
		return Result{}, notApplicable(l.Name())
	}
	var rec oaWork
	if err := json.Unmarshal(w.Record, &rec); err != nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "landing: decode record: %v", err)
	}
	cs := newCandidates(l.Name())
	locs := rec.allLocations()
	for _, oa := range []bool{true, false} {
		for _, loc := range locs {
			if loc.IsOA == oa && strings.HasPrefix(strings.ToLower(loc.LandingPageURL), "http") {
				cs.add(fulltext.Candidate{URL: loc.LandingPageURL, Technique: "record.landing_page_url", Landing: true, Version: loc.Version, License: loc.License})
			}
		}
	}
	return Result{Candidates: cs.done()}, nil
}
