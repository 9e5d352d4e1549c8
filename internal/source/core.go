package source

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// CORE searches the CORE aggregator (apis.md §9.1) by DOI:
// GET /v3/search/works/?q=doi:"…" with Authorization: Bearer <key>.
// Anonymous calls are throttled to uselessness, so the source is applicable
// only with an API key.
//
// The Bearer credential must never follow a redirect to another host
// (CORE's /download endpoint redirects to core.ac.uk): the shared HTTP
// layer strips credentials on cross-host redirects; this source only sends
// it to the API itself. Safe for concurrent use.
type CORE struct {
	base string
	c    *caller
}

func newCORE(cfg Config, c *caller) *CORE {
	return &CORE{base: base(cfg, DefaultBaseURL("core")), c: c}
}

// Name returns "core".
func (co *CORE) Name() string { return "core" }

// Applicable reports whether w has a DOI and an API key is configured.
func (co *CORE) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" && co.c.key != "" }

type coreWork struct {
	ID                 int64    `json:"id"`
	DOI                string   `json:"doi"`
	Title              string   `json:"title"`
	YearPublished      int      `json:"yearPublished"`
	ArxivID            string   `json:"arxivId"`
	DownloadURL        string   `json:"downloadUrl"`
	SourceFulltextURLs []string `json:"sourceFulltextUrls"`
	Links              []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"links"`
}

// Lookup returns, for the hits with the work's DOI: downloadUrl, the
// download links, the repositories' sourceFulltextUrls (files, or pages to
// scrape), then the CORE display page as a Landing candidate. No hit is
// not-found; hits all for other DOIs are resolver-error; a hit without any
// link is Closed.
func (co *CORE) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !co.Applicable(w) {
		return Result{}, notApplicable(co.Name())
	}
	q := url.Values{"q": {`doi:"` + w.IDs.DOI + `"`}, "limit": {"10"}, "offset": {"0"}}
	var ans struct {
		TotalHits *int       `json:"totalHits"`
		Results   []coreWork `json:"results"`
	}
	h := http.Header{"Authorization": {"Bearer " + co.c.key}}
	if err := co.c.getJSON(ctx, co.base+"/v3/search/works/?"+q.Encode(), h, &ans); err != nil {
		return Result{}, err
	}
	if ans.Results == nil && ans.TotalHits == nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "core: answer is not a search result")
	}
	if len(ans.Results) == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "core: no work with doi %s", w.IDs.DOI)
	}
	var hits []coreWork
	for _, r := range ans.Results {
		if strings.EqualFold(strings.TrimSpace(r.DOI), w.IDs.DOI) {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "core: %d hits, none with doi %s", len(ans.Results), w.IDs.DOI)
	}
	res := Result{Title: hits[0].Title, Year: hits[0].YearPublished}
	cs := newCandidates(co.Name())
	var landings []fulltext.Candidate
	for _, r := range hits {
		if id, err := fulltext.ParseID("arXiv:" + r.ArxivID); err == nil && res.IDs.ArXiv == "" {
			res.IDs.ArXiv = id.Value
		}
		cs.add(fulltext.Candidate{URL: r.DownloadURL, Technique: "downloadUrl"})
		for _, l := range r.Links {
			switch l.Type {
			case "download":
				cs.add(fulltext.Candidate{URL: l.URL, Technique: "links.download"})
			case "display":
				landings = append(landings, fulltext.Candidate{URL: l.URL, Technique: "links.display", Landing: true})
			}
		}
		for _, u := range r.SourceFulltextURLs {
			cs.add(fulltext.Candidate{URL: u, Technique: "sourceFulltextUrls", Landing: !looksLikeFile(u)})
		}
	}
	for _, c := range landings {
		cs.add(c)
	}
	res.Candidates = cs.done()
	res.Closed = len(res.Candidates) == 0
	return res, nil
}
