package source

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// DOAJ searches the Directory of Open Access Journals (apis.md §9.2) for
// the article with the work's DOI: GET /api/search/articles/{doi:"…"},
// the query percent-encoded as one path segment. Safe for concurrent use.
type DOAJ struct {
	base string
	c    *caller
}

func newDOAJ(cfg Config, c *caller) *DOAJ {
	return &DOAJ{base: base(cfg, DefaultBaseURL("doaj")), c: c}
}

// Name returns "doaj".
func (d *DOAJ) Name() string { return "doaj" }

// Applicable reports whether w has a DOI.
func (d *DOAJ) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" }

// Lookup returns the article's fulltext links: PDF ones first, then the
// others (usually the article page or a doi.org URL) as Landing candidates
// unless they look like files. No article is not-found; articles all with
// other DOIs are resolver-error.
func (d *DOAJ) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !d.Applicable(w) {
		return Result{}, notApplicable(d.Name())
	}
	seg := strings.ReplaceAll(url.QueryEscape(`doi:"`+w.IDs.DOI+`"`), "+", "%20")
	var ans struct {
		Total   *int `json:"total"`
		Results []struct {
			Bibjson struct {
				Title      string `json:"title"`
				Year       string `json:"year"`
				Identifier []struct {
					Type string `json:"type"`
					ID   string `json:"id"`
				} `json:"identifier"`
				Link []struct {
					Type        string `json:"type"`
					URL         string `json:"url"`
					ContentType string `json:"content_type"`
				} `json:"link"`
				License []struct {
					Type string `json:"type"`
				} `json:"license"`
			} `json:"bibjson"`
		} `json:"results"`
	}
	if err := d.c.getJSON(ctx, d.base+"/api/search/articles/"+seg+"?page=1&pageSize=10", nil, &ans); err != nil {
		return Result{}, err
	}
	if ans.Total == nil && ans.Results == nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "doaj: answer is not a search result")
	}
	if len(ans.Results) == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "doaj: no article with doi %s", w.IDs.DOI)
	}
	var res Result
	cs := newCandidates(d.Name())
	var landings []fulltext.Candidate
	found := false
	for _, a := range ans.Results {
		b := a.Bibjson
		match := false
		for _, id := range b.Identifier {
			if strings.EqualFold(id.Type, "doi") && strings.EqualFold(strings.TrimSpace(id.ID), w.IDs.DOI) {
				match = true
			}
		}
		if !match {
			continue
		}
		found = true
		res.Title = b.Title
		res.Year, _ = strconv.Atoi(b.Year)
		license := ""
		if len(b.License) > 0 {
			license = strings.ToLower(b.License[0].Type)
		}
		for _, l := range b.Link {
			if !strings.EqualFold(l.Type, "fulltext") {
				continue
			}
			c := fulltext.Candidate{URL: l.URL, Technique: "bibjson.link.fulltext", License: license, Version: "publishedVersion"}
			if strings.EqualFold(l.ContentType, "pdf") {
				cs.add(c)
				continue
			}
			c.Landing = !looksLikeFile(l.URL)
			landings = append(landings, c)
		}
	}
	if !found {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "doaj: %d articles, none with doi %s", len(ans.Results), w.IDs.DOI)
	}
	for _, c := range landings {
		cs.add(c)
	}
	res.Candidates = cs.done()
	return res, nil
}
