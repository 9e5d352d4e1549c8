package source

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// OpenAlex reads a work's locations from OpenAlex (apis.md §1): from the
// record the input carried when there is one, else from GET /works/{id}.
// It also pages through OpenAlex queries for planning (see Query).
// Safe for concurrent use.
type OpenAlex struct {
	base string
	c    *caller
}

func newOpenAlex(cfg Config, c *caller) *OpenAlex {
	return &OpenAlex{base: base(cfg, DefaultBaseURL("openalex")), c: c}
}

// Name returns "openalex".
func (o *OpenAlex) Name() string { return "openalex" }

// Applicable reports whether w carries an OpenAlex record or an id OpenAlex
// resolves (OpenAlex id, DOI, PMID, PMCID).
func (o *OpenAlex) Applicable(w fulltext.Work) bool {
	return len(w.Record) > 0 || o.idPath(w) != ""
}

// idPath is the /works/{id} path segment for w, best id first. A bare DOI
// 404s (the slash splits the path), so DOIs get the doi: prefix.
func (o *OpenAlex) idPath(w fulltext.Work) string {
	switch {
	case w.IDs.OpenAlex != "":
		return url.PathEscape(w.IDs.OpenAlex)
	case w.IDs.DOI != "":
		return "doi:" + escapeDOIPath(w.IDs.DOI)
	case w.IDs.PMCID != "":
		return "pmcid:" + url.PathEscape(w.IDs.PMCID)
	case w.IDs.PMID != "":
		return "pmid:" + url.PathEscape(w.IDs.PMID)
	}
	return ""
}

// query returns the polite/auth query parameters: api_key and mailto when
// configured.
func (o *OpenAlex) query() url.Values {
	q := url.Values{}
	if o.c.key != "" {
		q.Set("api_key", o.c.key)
	}
	if o.c.deps.Mailto != "" {
		q.Set("mailto", o.c.deps.Mailto)
	}
	return q
}

// Lookup returns the work's candidates in the order of apis.md §1.5:
// best_oa_location.pdf_url, every OA locations[].pdf_url (for an arXiv
// location without one, the PDF URL built from the id), open_access.oa_url,
// then every landing_page_url as a Landing candidate. A work OpenAlex calls
// closed (no OA location) is Result{Closed: true}. The record's PMID, PMCID
// and arXiv ids are returned in Result.IDs.
func (o *OpenAlex) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	raw := w.Record
	if len(raw) == 0 {
		id := o.idPath(w)
		if id == "" {
			return Result{}, notApplicable(o.Name())
		}
		u := o.base + "/works/" + id
		if q := o.query().Encode(); q != "" {
			u += "?" + q
		}
		r, err := o.c.fetch(ctx, http.MethodGet, u, nil, nil)
		if err != nil {
			return Result{}, err
		}
		if err := o.statusError(r); err != nil {
			return Result{}, err
		}
		raw = r.body
	}
	var rec oaWork
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "openalex: decode work: %v", err)
	}
	if err := rec.check(w); err != nil {
		return Result{}, err
	}
	return rec.result(raw), nil
}

// statusError refines the generic mapping with OpenAlex's own: 429 with the
// daily-allowance body (or X-RateLimit-Remaining: 0) is credits-exhausted; 403 "rate limit" is the
// per-second limit (rate-limited).
func (o *OpenAlex) statusError(r *response) error {
	err := o.c.statusError(r)
	if err == nil {
		return nil
	}
	body := bytes.ToLower(r.body)
	switch {
	case r.status == http.StatusTooManyRequests &&
		(bytes.Contains(body, []byte("allowance")) || bytes.Contains(body, []byte("credit")) || bytes.Contains(body, []byte("exhausted")) ||
			strings.TrimSpace(r.header.Get("X-RateLimit-Remaining")) == "0"):
		return &fulltext.Error{Code: fulltext.CodeCreditsExhausted, RetryAfter: retryAfter(r.header, o.c.deps.Clock.Now()), Err: err}
	case r.status == http.StatusForbidden && bytes.Contains(body, []byte("rate limit")):
		return &fulltext.Error{Code: fulltext.CodeRateLimited, RetryAfter: retryAfter(r.header, o.c.deps.Clock.Now()), Err: err}
	}
	return err
}

// oaWork is the part of an OpenAlex work a PDF-finder reads (apis.md §1.5).
type oaWork struct {
	ID              string `json:"id"`
	DOI             string `json:"doi"`
	Title           string `json:"title"`
	DisplayName     string `json:"display_name"`
	PublicationYear int    `json:"publication_year"`
	IDs             struct {
		PMID  string          `json:"pmid"`
		PMCID json.RawMessage `json:"pmcid"`
	} `json:"ids"`
	OpenAccess struct {
		IsOA     bool   `json:"is_oa"`
		OAStatus string `json:"oa_status"`
		OAURL    string `json:"oa_url"`
	} `json:"open_access"`
	PrimaryLocation *oaLocation  `json:"primary_location"`
	BestOALocation  *oaLocation  `json:"best_oa_location"`
	Locations       []oaLocation `json:"locations"`
}

type oaLocation struct {
	IsOA           bool   `json:"is_oa"`
	LandingPageURL string `json:"landing_page_url"`
	PDFURL         string `json:"pdf_url"`
	License        string `json:"license"`
	Version        string `json:"version"`
	ID             string `json:"id"`
}

// check rejects a record that is not a work or contradicts the work asked
// for (another DOI).
func (rec *oaWork) check(w fulltext.Work) error {
	if rec.ID == "" && rec.DOI == "" {
		return fulltext.Errorf(fulltext.CodeResolverError, "openalex: answer is not a work (no id, no doi)")
	}
	if w.IDs.DOI != "" && rec.DOI != "" {
		id, err := fulltext.ParseID(rec.DOI)
		if err == nil && id.Kind == fulltext.KindDOI && id.Value != w.IDs.DOI {
			return fulltext.Errorf(fulltext.CodeResolverError, "openalex: asked for doi %s, got %s", w.IDs.DOI, id.Value)
		}
	}
	return nil
}

// result builds the Result of a decoded work; raw is its JSON.
func (rec *oaWork) result(raw []byte) Result {
	res := Result{Title: cmpOr(rec.Title, rec.DisplayName), Year: rec.PublicationYear, Record: raw}
	// The domain parser knows the identifier forms (URL ids, PMCIDs
	// without their prefix, bare-number PMCIDs of older records).
	if w, err := fulltext.ParseOpenAlexWork(raw); err == nil {
		res.IDs = w.IDs
	}
	for _, l := range rec.allLocations() {
		if ax := arxivFromURL(l.LandingPageURL, l.PDFURL); ax != "" && res.IDs.ArXiv == "" {
			res.IDs.ArXiv = ax
		}
	}
	cs := newCandidates("openalex")
	if b := rec.BestOALocation; b != nil && b.PDFURL != "" {
		cs.add(fulltext.Candidate{URL: b.PDFURL, Technique: "best_oa_location.pdf_url", Version: b.Version, License: b.License})
	}
	for _, l := range rec.Locations {
		if !l.IsOA {
			continue
		}
		if l.PDFURL != "" {
			cs.add(fulltext.Candidate{URL: l.PDFURL, Technique: "locations.pdf_url", Version: l.Version, License: l.License})
		} else if ax := arxivFromURL(l.LandingPageURL); ax != "" {
			// An arXiv location without a pdf_url: the PDF URL follows from the id.
			cs.add(fulltext.Candidate{URL: "https://arxiv.org/pdf/" + ax, Technique: "locations.arxiv-id", Version: l.Version, License: l.License})
		}
	}
	if u := rec.OpenAccess.OAURL; u != "" {
		cs.add(fulltext.Candidate{URL: u, Technique: "open_access.oa_url", Landing: !looksLikeFile(u)})
	}
	closed := !rec.OpenAccess.IsOA && rec.BestOALocation == nil && len(cs.list) == 0
	if !closed {
		for _, l := range rec.allLocations() {
			if l.LandingPageURL != "" && l.IsOA {
				cs.add(fulltext.Candidate{URL: l.LandingPageURL, Technique: "locations.landing_page_url", Landing: true, Version: l.Version, License: l.License})
			}
		}
	}
	res.Candidates = cs.done()
	res.Closed = closed
	return res
}

// allLocations is best_oa_location, locations[] and primary_location, in
// that order, nils skipped.
func (rec *oaWork) allLocations() []oaLocation {
	var out []oaLocation
	if rec.BestOALocation != nil {
		out = append(out, *rec.BestOALocation)
	}
	out = append(out, rec.Locations...)
	if rec.PrimaryLocation != nil {
		out = append(out, *rec.PrimaryLocation)
	}
	return out
}

// looksLikeFile guesses whether u names a file rather than a page: OpenAlex's
// oa_url "may be a landing page, not a PDF".
func looksLikeFile(u string) bool {
	l := strings.ToLower(u)
	if p, err := url.Parse(l); err == nil {
		l = p.Path
	}
	return strings.HasSuffix(l, ".pdf") || strings.Contains(l, "/pdf") || strings.HasSuffix(l, "/download") ||
		strings.HasSuffix(l, "/content") || strings.HasSuffix(l, "/document")
}

// arxivFromURL returns the arXiv id named by the first arxiv.org abs/pdf URL
// among urls, or "".
func arxivFromURL(urls ...string) string {
	for _, u := range urls {
		if !strings.Contains(strings.ToLower(u), "arxiv.org/") {
			continue
		}
		if id, err := fulltext.ParseID(u); err == nil && id.Kind == fulltext.KindArXiv {
			return id.Value
		}
	}
	return ""
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
