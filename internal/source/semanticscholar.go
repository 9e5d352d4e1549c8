package source

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// SemanticScholar reads openAccessPdf from the Semantic Scholar Academic
// Graph (apis.md §8): GET /graph/v1/paper/{DOI:|ARXIV:|PMCID:|PMID:id}.
// The optional API key goes in the x-api-key header; Semantic Scholar
// sends no Retry-After, so its 429s carry RetryAfter 0. Safe for
// concurrent use.
type SemanticScholar struct {
	base string
	c    *caller
}

const s2Fields = "title,year,publicationDate,externalIds,url,isOpenAccess,openAccessPdf"

func newSemanticScholar(cfg Config, c *caller) *SemanticScholar {
	return &SemanticScholar{base: base(cfg, DefaultBaseURL("semanticscholar")), c: c}
}

// Name returns "semanticscholar".
func (s *SemanticScholar) Name() string { return "semanticscholar" }

// Applicable reports whether w has a DOI, arXiv id, PMCID or PMID.
func (s *SemanticScholar) Applicable(w fulltext.Work) bool { return s.paperID(w) != "" }

func (s *SemanticScholar) paperID(w fulltext.Work) string {
	switch {
	case w.IDs.DOI != "":
		return "DOI:" + escapeDOIPath(w.IDs.DOI)
	case w.IDs.ArXiv != "":
		return "ARXIV:" + escapeDOIPath(w.IDs.ArXiv)
	case w.IDs.PMCID != "":
		return "PMCID:" + strings.TrimPrefix(w.IDs.PMCID, "PMC")
	case w.IDs.PMID != "":
		return "PMID:" + w.IDs.PMID
	}
	return ""
}

// Lookup returns openAccessPdf.url (an arXiv /abs/ URL rewritten to /pdf/).
// An empty url (Semantic Scholar's closed marker; older answers had
// openAccessPdf null) on a paper that is not open access is Closed. The
// paper's DOI, arXiv id, PMID and PMCID are learned; an answer for another
// DOI is resolver-error.
func (s *SemanticScholar) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	id := s.paperID(w)
	if id == "" {
		return Result{}, notApplicable(s.Name())
	}
	var h http.Header
	if s.c.key != "" {
		h = http.Header{"X-Api-Key": {s.c.key}}
	}
	var p struct {
		PaperID     string `json:"paperId"`
		Title       string `json:"title"`
		Year        int    `json:"year"`
		ExternalIDs struct {
			DOI           string `json:"DOI"`
			ArXiv         string `json:"ArXiv"`
			PubMed        string `json:"PubMed"`
			PubMedCentral string `json:"PubMedCentral"`
		} `json:"externalIds"`
		IsOpenAccess  bool `json:"isOpenAccess"`
		OpenAccessPdf *struct {
			URL     string `json:"url"`
			Status  string `json:"status"`
			License string `json:"license"`
		} `json:"openAccessPdf"`
	}
	u := s.base + "/graph/v1/paper/" + id + "?" + url.Values{"fields": {s2Fields}}.Encode()
	if err := s.c.getJSON(ctx, u, h, &p); err != nil {
		return Result{}, err
	}
	if p.PaperID == "" {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "semanticscholar: answer is not a paper")
	}
	if w.IDs.DOI != "" && p.ExternalIDs.DOI != "" && !strings.EqualFold(p.ExternalIDs.DOI, w.IDs.DOI) {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "semanticscholar: asked for doi %s, got %s", w.IDs.DOI, p.ExternalIDs.DOI)
	}
	res := Result{Title: p.Title, Year: p.Year}
	for _, s := range []string{"doi:" + p.ExternalIDs.DOI, "arXiv:" + p.ExternalIDs.ArXiv, "pmid:" + p.ExternalIDs.PubMed, "PMC" + p.ExternalIDs.PubMedCentral} {
		if wid, err := fulltext.ParseID(s); err == nil {
			res.IDs.Set(wid)
		}
	}
	cs := newCandidates(s.Name())
	if oa := p.OpenAccessPdf; oa != nil && strings.TrimSpace(oa.URL) != "" {
		u := oa.URL
		u = strings.Replace(u, "arxiv.org/abs/", "arxiv.org/pdf/", 1)
		cs.add(fulltext.Candidate{URL: u, Technique: "openAccessPdf", License: s2License(oa.License)})
	}
	res.Candidates = cs.done()
	res.Closed = len(res.Candidates) == 0 && !p.IsOpenAccess
	return res, nil
}

// s2License turns Semantic Scholar's "CCBYNCND" style into "cc-by-nc-nd".
func s2License(l string) string {
	u := strings.ToUpper(strings.TrimSpace(l))
	rest, ok := strings.CutPrefix(u, "CC")
	if !ok || strings.Contains(rest, "-") {
		return strings.ToLower(l)
	}
	out := "cc"
	for rest != "" {
		part := rest
		for _, p := range []string{"BY", "NC", "ND", "SA", "0"} {
			if strings.HasPrefix(rest, p) {
				part = p
				break
			}
		}
		out += "-" + strings.ToLower(part)
		rest = rest[len(part):]
	}
	if out == "cc-0" {
		return "cc0"
	}
	return out
}
