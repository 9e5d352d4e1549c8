package source

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// PMC finds a work's PubMed Central copy (apis.md §5): the PMCID from the
// ID Converter when only a DOI or PMID is known (the current API,
// GET /tools/idconv/api/v1/articles/ on pmc.ncbi.nlm.nih.gov, then the
// legacy GET /pmc/utils/idconv/v1.0/ on www.ncbi.nlm.nih.gov), then the OA
// Web Service (GET /pmc/utils/oa/oa.fcgi) for the PDF link, and the article
// PDF route as a last resort (often a bot check nowadays). Every call
// carries tool, email (Deps.Mailto) and api_key (Config.APIKey) when set.
// Safe for concurrent use.
type PMC struct {
	// pmcHost serves the current idconv API; wwwHost the legacy idconv and
	// oa.fcgi. Both are BaseURL when it is set.
	// cloudHost is the PMC Cloud Service bucket.
	pmcHost, wwwHost, cloudHost string
	c                           *caller
}

// pmcSite and ftpSite are where the candidates live (not API hosts).
const (
	pmcSite = "https://pmc.ncbi.nlm.nih.gov"
	ftpSite = "https://ftp.ncbi.nlm.nih.gov"
)

func newPMC(cfg Config, c *caller) *PMC {
	return &PMC{
		pmcHost:   base(cfg, "https://pmc.ncbi.nlm.nih.gov"),
		wwwHost:   base(cfg, "https://www.ncbi.nlm.nih.gov"),
		cloudHost: base(cfg, pmcCloud),
		c:         c,
	}
}

// Name returns "pmc".
func (p *PMC) Name() string { return "pmc" }

// Applicable reports whether w has a PMCID, DOI or PMID.
func (p *PMC) Applicable(w fulltext.Work) bool {
	return w.IDs.PMCID != "" || w.IDs.DOI != "" || w.IDs.PMID != ""
}

// ncbiParams are the tool/email/api_key parameters NCBI asks for on every
// call.
func (p *PMC) ncbiParams() url.Values {
	v := url.Values{"tool": {"oafetch"}}
	if p.c.deps.Mailto != "" {
		v.Set("email", p.c.deps.Mailto)
	}
	if p.c.key != "" {
		v.Set("api_key", p.c.key)
	}
	return v
}

// Lookup resolves the PMCID if needed and returns, best first, in
// Deps.Formats order: the PMC Cloud Service PDF of the latest version (the
// bucket is listed, then the version's metadata read; failures there are
// not fatal), the oa.fcgi PDF over HTTPS at its /pub/pmc/deprecated/
// location (where NCBI moved the legacy files in April 2026), the same at
// its original location, the article PDF route; and the cloud JATS XML when
// XML is wanted. The tgz package is not offered (it
// is not a full text by itself). A work not in PMC is not-found; oa.fcgi's
// idIsNotOpenAccess is Closed; its other errors are resolver-error.
func (p *PMC) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !p.Applicable(w) {
		return Result{}, notApplicable(p.Name())
	}
	var res Result
	pmcid := w.IDs.PMCID
	if pmcid == "" {
		ids, err := p.convert(ctx, w)
		if err != nil {
			return Result{}, err
		}
		res.IDs = ids
		pmcid = ids.PMCID
	}
	v := p.ncbiParams()
	v.Set("id", pmcid)
	r, err := p.c.fetch(ctx, http.MethodGet, p.wwwHost+"/pmc/utils/oa/oa.fcgi?"+v.Encode(), http.Header{"Accept": {"text/xml, application/xml"}}, nil)
	if err != nil {
		return Result{}, err
	}
	if err := p.c.statusError(r); err != nil {
		return Result{}, err
	}
	var oa oaResponse
	if err := xml.Unmarshal(r.body, &oa); err != nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: decode oa.fcgi: %v", err)
	}
	if oa.Error != nil {
		switch oa.Error.Code {
		case "idIsNotOpenAccess":
			res.Closed = true
			return res, nil
		case "idDoesNotExist":
			return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "pmc: oa.fcgi: %s", strings.TrimSpace(oa.Error.Text))
		}
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: oa.fcgi error %s: %s", oa.Error.Code, strings.TrimSpace(oa.Error.Text))
	}
	if oa.Records == nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: oa.fcgi answer has neither records nor error")
	}
	var pdfs []fulltext.Candidate
	for _, rec := range oa.Records.Record {
		if !strings.EqualFold(rec.ID, pmcid) {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: asked oa.fcgi for %s, got %s", pmcid, rec.ID)
		}
		license := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(rec.License), " ", "-"))
		for _, l := range rec.Link {
			if l.Format != "pdf" {
				continue
			}
			for i, u := range ncbiFileURLs(l.Href) {
				tech := "oa.fcgi.pdf"
				if i == 0 && strings.Contains(u, "/deprecated/") && !strings.Contains(l.Href, "/deprecated/") {
					tech = "oa.fcgi.pdf.deprecated"
				}
				pdfs = append(pdfs, fulltext.Candidate{URL: u, Technique: tech, License: license, Version: "publishedVersion"})
			}
		}
	}
	pdfs = append(pdfs, fulltext.Candidate{URL: pmcSite + "/articles/" + pmcid + "/pdf/", Technique: "article-pdf-route"})
	byKind := map[fulltext.Kind][]fulltext.Candidate{}
	if cloud, err := p.cloud(ctx, pmcid); err == nil {
		for _, c := range cloud {
			byKind[c.Kind] = append(byKind[c.Kind], c)
		}
	}
	byKind[fulltext.KindPDF] = append(byKind[fulltext.KindPDF], pdfs...)
	cs := newCandidates(p.Name())
	for _, k := range p.c.deps.Formats {
		for _, c := range byKind[k] {
			cs.add(c)
		}
	}
	res.Candidates = cs.done()
	return res, nil
}

// ncbiFileURLs turns an oa.fcgi href into the HTTPS URLs to try: the
// /pub/pmc/deprecated/ location first, then the original path.
func ncbiFileURLs(href string) []string {
	u := strings.TrimSpace(href)
	if rest, ok := strings.CutPrefix(u, "ftp://ftp.ncbi.nlm.nih.gov"); ok {
		u = ftpSite + rest
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil
	}
	if rest, ok := strings.CutPrefix(u, ftpSite+"/pub/pmc/"); ok && !strings.HasPrefix(rest, "deprecated/") {
		return []string{ftpSite + "/pub/pmc/deprecated/" + rest, u}
	}
	return []string{u}
}

type oaResponse struct {
	Error *struct {
		Code string `xml:"code,attr"`
		Text string `xml:",chardata"`
	} `xml:"error"`
	Records *struct {
		Record []struct {
			ID      string `xml:"id,attr"`
			License string `xml:"license,attr"`
			Link    []struct {
				Format string `xml:"format,attr"`
				Href   string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"record"`
	} `xml:"records"`
}

// idconvRecord covers both shapes: the current API (requested-id, numeric
// pmid) and legacy v1.0 (string pmid, no requested-id).
type idconvRecord struct {
	RequestedID string          `json:"requested-id"`
	PMCID       string          `json:"pmcid"`
	PMID        json.RawMessage `json:"pmid"`
	DOI         string          `json:"doi"`
	Status      string          `json:"status"`
	ErrMsg      string          `json:"errmsg"`
}

// convert asks the ID Converter for w's PMCID: the current API first, the
// legacy one when the current answers something unusable.
func (p *PMC) convert(ctx context.Context, w fulltext.Work) (fulltext.IDs, error) {
	id, idtype := w.IDs.DOI, "doi"
	if id == "" {
		id, idtype = w.IDs.PMID, "pmid"
	}
	v := p.ncbiParams()
	v.Set("ids", id)
	v.Set("idtype", idtype)
	v.Set("format", "json")
	ids, err := p.convertAt(ctx, p.pmcHost+"/tools/idconv/api/v1/articles/?"+v.Encode(), id, idtype)
	switch fulltext.CodeOf(err) {
	case fulltext.CodeResolverError, fulltext.CodeServerError:
		if legacy, lerr := p.convertAt(ctx, p.wwwHost+"/pmc/utils/idconv/v1.0/?"+v.Encode(), id, idtype); lerr == nil {
			return legacy, nil
		}
	}
	return ids, err
}

func (p *PMC) convertAt(ctx context.Context, u, id, idtype string) (fulltext.IDs, error) {
	var ans struct {
		Status  string         `json:"status"`
		Records []idconvRecord `json:"records"`
	}
	if err := p.c.getJSON(ctx, u, nil, &ans); err != nil {
		return fulltext.IDs{}, err
	}
	if ans.Status != "" && ans.Status != "ok" {
		return fulltext.IDs{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: idconv status %q", ans.Status)
	}
	for _, r := range ans.Records {
		pmid := strings.Trim(string(r.PMID), `"`)
		matches := strings.EqualFold(r.RequestedID, id) ||
			(idtype == "doi" && strings.EqualFold(r.DOI, id)) || (idtype == "pmid" && pmid == id)
		if !matches {
			continue
		}
		if r.Status == "error" || r.PMCID == "" {
			return fulltext.IDs{}, fulltext.Errorf(fulltext.CodeNotFound, "pmc: idconv %s: %s", id, r.ErrMsg)
		}
		var ids fulltext.IDs
		for _, s := range []string{r.PMCID, "pmid:" + pmid, "doi:" + r.DOI} {
			if wid, err := fulltext.ParseID(s); err == nil {
				ids.Set(wid)
			}
		}
		if ids.PMCID == "" {
			return fulltext.IDs{}, fulltext.Errorf(fulltext.CodeResolverError, "pmc: idconv gave a bad pmcid %q", r.PMCID)
		}
		return ids, nil
	}
	return fulltext.IDs{}, fulltext.Errorf(fulltext.CodeNotFound, "pmc: idconv has no record for %s", id)
}
