package source

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Crossref reads the full-text links publishers deposit with Crossref
// (apis.md §3): GET /works/{doi}?mailto= (the polite pool). Crossref does
// not know whether a work is open, so it never reports Closed; many
// text-mining links are token-gated and the download will say so. Safe for
// concurrent use.
type Crossref struct {
	base string
	c    *caller
}

func newCrossref(cfg Config, c *caller) *Crossref {
	return &Crossref{base: base(cfg, DefaultBaseURL("crossref")), c: c}
}

// Name returns "crossref".
func (x *Crossref) Name() string { return "crossref" }

// Applicable reports whether w has a DOI Crossref can know: DataCite's
// arXiv (10.48550) and Zenodo (10.5281) DOIs are always 404 there.
func (x *Crossref) Applicable(w fulltext.Work) bool {
	return w.IDs.DOI != "" && !strings.HasPrefix(w.IDs.DOI, "10.48550/") && !strings.HasPrefix(w.IDs.DOI, "10.5281/")
}

type crLink struct {
	URL                 string `json:"URL"`
	ContentType         string `json:"content-type"`
	ContentVersion      string `json:"content-version"`
	IntendedApplication string `json:"intended-application"`
}

type crWork struct {
	Status  string `json:"status"`
	Message *struct {
		DOI    string   `json:"DOI"`
		Title  []string `json:"title"`
		Issued struct {
			DateParts [][]int `json:"date-parts"`
		} `json:"issued"`
		Link    []crLink `json:"link"`
		License []struct {
			URL            string `json:"URL"`
			ContentVersion string `json:"content-version"`
			DelayInDays    int    `json:"delay-in-days"`
		} `json:"license"`
		Resource struct {
			Primary struct {
				URL string `json:"URL"`
			} `json:"primary"`
		} `json:"resource"`
		Relation map[string][]struct {
			IDType string `json:"id-type"`
			ID     string `json:"id"`
		} `json:"relation"`
	} `json:"message"`
}

// Lookup returns the deposited PDF and XML links (XML only when wanted),
// ordered by version (vor, am, tdm, other), then kind (the wanted formats
// in Deps.Formats order, then links of unspecified type, which OJS
// journals use for the PDF), then application (text-mining first,
// similarity-checking last); then resource.primary.URL as a
// Landing candidate. A has-preprint relation to an arXiv DOI teaches the
// arXiv id.
func (x *Crossref) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !x.Applicable(w) {
		return Result{}, notApplicable(x.Name())
	}
	u := x.base + "/works/" + escapeDOIPath(w.IDs.DOI)
	if x.c.deps.Mailto != "" {
		u += "?" + url.Values{"mailto": {x.c.deps.Mailto}}.Encode()
	}
	var rec crWork
	if err := x.c.getJSON(ctx, u, nil, &rec); err != nil {
		return Result{}, err
	}
	m := rec.Message
	if m == nil || (rec.Status != "" && rec.Status != "ok") {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "crossref: answer without a work (status %q)", rec.Status)
	}
	if !strings.EqualFold(m.DOI, w.IDs.DOI) {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "crossref: asked for doi %s, got %q", w.IDs.DOI, m.DOI)
	}
	res := Result{}
	if len(m.Title) > 0 {
		res.Title = m.Title[0]
	}
	if len(m.Issued.DateParts) > 0 && len(m.Issued.DateParts[0]) > 0 {
		res.Year = m.Issued.DateParts[0][0]
	}
	for _, rels := range m.Relation {
		for _, r := range rels {
			if id, err := fulltext.ParseID("doi:" + r.ID); err == nil && res.IDs.ArXiv == "" {
				var ids fulltext.IDs
				ids.Set(id)
				res.IDs.ArXiv = ids.ArXiv
			}
		}
	}
	license := map[string]string{}
	for _, l := range m.License {
		if _, ok := license[l.ContentVersion]; !ok {
			license[l.ContentVersion] = shortLicense(l.URL)
		}
	}
	type ranked struct {
		c                  fulltext.Candidate
		version, kind, app int
	}
	var links []ranked
	for _, l := range m.Link {
		kind, ok := crKind(l.ContentType)
		if !ok || (kind != "" && !x.c.wants(kind)) {
			continue
		}
		c := fulltext.Candidate{
			URL:       l.URL,
			Kind:      kind,
			Technique: "link." + cmp.Or(l.IntendedApplication, "unspecified"),
			Version:   crVersion(l.ContentVersion),
			License:   cmp.Or(license[l.ContentVersion], license["unspecified"]),
		}
		kindRank := len(x.c.deps.Formats) + 1 // unspecified content type: after the known kinds
		if kind == "" {
			c.Kind = fulltext.KindPDF
			c.Landing = !looksLikeFile(l.URL)
		} else {
			kindRank = slices.Index(x.c.deps.Formats, kind)
		}
		links = append(links, ranked{c: c, version: crVersionRank(l.ContentVersion), kind: kindRank, app: crAppRank(l.IntendedApplication)})
	}
	slices.SortStableFunc(links, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.version, b.version), cmp.Compare(a.kind, b.kind), cmp.Compare(a.app, b.app))
	})
	cs := newCandidates(x.Name())
	for _, l := range links {
		cs.add(l.c)
	}
	if p := m.Resource.Primary.URL; p != "" && !strings.Contains(p, "deleted_DOI") {
		cs.add(fulltext.Candidate{URL: p, Technique: "resource.primary", Landing: true})
	}
	res.Candidates = cs.done()
	return res, nil
}

// crKind maps a link content-type to a kind; "" with ok for "unspecified"
// (the file may still be a PDF); ok false for types we never want.
func crKind(ct string) (fulltext.Kind, bool) {
	ct = strings.ToLower(strings.TrimSpace(ct))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch ct {
	case "application/pdf":
		return fulltext.KindPDF, true
	case "application/xml", "text/xml", "application/jats+xml":
		return fulltext.KindXML, true
	case "unspecified", "":
		return "", true
	}
	return "", false
}

func crVersion(v string) string {
	switch v {
	case "vor":
		return "publishedVersion"
	case "am":
		return "acceptedVersion"
	}
	return ""
}

func crVersionRank(v string) int {
	switch v {
	case "vor":
		return 0
	case "am":
		return 1
	case "tdm":
		return 2
	}
	return 3
}

func crAppRank(a string) int {
	switch a {
	case "text-mining":
		return 0
	case "syndication", "unspecified", "":
		return 1
	}
	return 2 // similarity-checking: meant for iThenticate
}

// shortLicense turns a Creative Commons URL into its short name ("cc-by",
// "cc-by-nc-nd", "cc0"); other values are returned as given.
func shortLicense(u string) string {
	l := strings.ToLower(u)
	if !strings.Contains(l, "creativecommons.org/") {
		return u
	}
	if strings.Contains(l, "/publicdomain/zero") {
		return "cc0"
	}
	if _, after, ok := strings.Cut(l, "/licenses/"); ok {
		kind, _, _ := strings.Cut(after, "/")
		if kind != "" {
			return "cc-" + kind
		}
	}
	return u
}
