package source

import (
	"context"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Unpaywall reads a DOI's OA locations from Unpaywall v2 (apis.md §2):
// GET /v2/{doi}?email=. Unpaywall requires a real contact address, so the
// source is not applicable without Deps.Mailto. Safe for concurrent use.
type Unpaywall struct {
	base string
	c    *caller
}

func newUnpaywall(cfg Config, c *caller) *Unpaywall {
	return &Unpaywall{base: base(cfg, DefaultBaseURL("unpaywall")), c: c}
}

// Name returns "unpaywall".
func (u *Unpaywall) Name() string { return "unpaywall" }

// Applicable reports whether w has a DOI and a mailto is configured.
func (u *Unpaywall) Applicable(w fulltext.Work) bool {
	return w.IDs.DOI != "" && strings.Contains(u.c.deps.Mailto, "@")
}

type upLocation struct {
	URL               string `json:"url"`
	URLForPDF         string `json:"url_for_pdf"`
	URLForLandingPage string `json:"url_for_landing_page"`
	HostType          string `json:"host_type"`
	Version           string `json:"version"`
	License           string `json:"license"`
	Evidence          string `json:"evidence"`
	IsBest            bool   `json:"is_best"`
}

type upWork struct {
	DOI            string       `json:"doi"`
	Title          string       `json:"title"`
	Year           int          `json:"year"`
	IsOA           bool         `json:"is_oa"`
	BestOALocation *upLocation  `json:"best_oa_location"`
	OALocations    []upLocation `json:"oa_locations"`
}

// Lookup returns every OA location's url_for_pdf (best location first),
// then their landing pages as Landing candidates. is_oa false is
// Result{Closed: true}. The deprecated evidence field ("deprecated" since
// 2025) is used for the technique only when it still says something.
func (u *Unpaywall) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !u.Applicable(w) {
		return Result{}, notApplicable(u.Name())
	}
	q := url.Values{"email": {u.c.deps.Mailto}}
	var rec upWork
	if err := u.c.getJSON(ctx, u.base+"/v2/"+escapeDOIPath(w.IDs.DOI)+"?"+q.Encode(), nil, &rec); err != nil {
		return Result{}, err
	}
	if rec.DOI == "" {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "unpaywall: answer has no doi")
	}
	if !strings.EqualFold(rec.DOI, w.IDs.DOI) {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "unpaywall: asked for doi %s, got %s", w.IDs.DOI, rec.DOI)
	}
	res := Result{Title: rec.Title, Year: rec.Year}
	locs := rec.OALocations
	if rec.BestOALocation != nil {
		locs = append([]upLocation{*rec.BestOALocation}, locs...)
	}
	if !rec.IsOA || len(locs) == 0 {
		if rec.IsOA {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "unpaywall: is_oa true without any oa location")
		}
		res.Closed = true
		return res, nil
	}
	cs := newCandidates(u.Name())
	for _, l := range locs {
		cs.add(fulltext.Candidate{URL: l.URLForPDF, Technique: upTechnique("url_for_pdf", l), Version: l.Version, License: l.License})
		if ax := arxivFromURL(l.URLForPDF, l.URLForLandingPage); ax != "" && res.IDs.ArXiv == "" {
			res.IDs.ArXiv = ax
		}
	}
	for _, l := range locs {
		cs.add(fulltext.Candidate{URL: l.URLForLandingPage, Technique: upTechnique("url_for_landing_page", l), Landing: true, Version: l.Version, License: l.License})
	}
	res.Candidates = cs.done()
	return res, nil
}

func upTechnique(field string, l upLocation) string {
	t := "oa_locations." + field
	if l.IsBest {
		t = "best_oa_location." + field
	}
	if e := strings.TrimSpace(l.Evidence); e != "" && e != "deprecated" {
		t += " (" + e + ")"
	}
	return t
}
