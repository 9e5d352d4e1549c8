package source

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// EuropePMC searches Europe PMC (apis.md §4) for the work's record
// (GET /europepmc/webservices/rest/search?resultType=core) and offers its renderer PDF, its JATS full text when XML
// is wanted, and the free links of fullTextUrlList. Safe for concurrent use.
type EuropePMC struct {
	base string
	c    *caller
}

const (
	europePMCDefault = "https://www.ebi.ac.uk"
	// europePMCRest prefixes every REST path.
	europePMCRest = "/europepmc/webservices/rest"
	// europePMCSite is where the renderer and article pages live (not the
	// API).
	europePMCSite = "https://europepmc.org"
)

func newEuropePMC(cfg Config, c *caller) *EuropePMC {
	return &EuropePMC{base: base(cfg, europePMCDefault), c: c}
}

// Name returns "europepmc".
func (e *EuropePMC) Name() string { return "europepmc" }

// Applicable reports whether w has a PMCID, DOI or PMID.
func (e *EuropePMC) Applicable(w fulltext.Work) bool {
	return w.IDs.PMCID != "" || w.IDs.DOI != "" || w.IDs.PMID != ""
}

type epmcResult struct {
	ID           string `json:"id"`
	Source       string `json:"source"`
	PMID         string `json:"pmid"`
	PMCID        string `json:"pmcid"`
	DOI          string `json:"doi"`
	Title        string `json:"title"`
	PubYear      string `json:"pubYear"`
	IsOpenAccess string `json:"isOpenAccess"`
	InEPMC       string `json:"inEPMC"`
	HasPDF       string `json:"hasPDF"`
	AuthMan      string `json:"authMan"`
	EPMCAuthMan  string `json:"epmcAuthMan"`
	License      string `json:"license"`
	FullTextIDs  struct {
		FullTextID []string `json:"fullTextId"`
	} `json:"fullTextIdList"`
	FullTextURLList struct {
		FullTextURL []struct {
			AvailabilityCode string `json:"availabilityCode"`
			DocumentStyle    string `json:"documentStyle"`
			Site             string `json:"site"`
			URL              string `json:"url"`
		} `json:"fullTextUrl"`
	} `json:"fullTextUrlList"`
}

type epmcSearch struct {
	ErrCode    any    `json:"errCode"`
	ErrMsg     string `json:"errMsg"`
	HitCount   *int   `json:"hitCount"`
	ResultList *struct {
		Result []epmcResult `json:"result"`
	} `json:"resultList"`
}

// query is the search expression for w, best id first.
func (e *EuropePMC) query(w fulltext.Work) string {
	switch {
	case w.IDs.PMCID != "":
		return "PMCID:" + w.IDs.PMCID
	case w.IDs.DOI != "":
		return `DOI:"` + w.IDs.DOI + `"`
	default:
		return "EXT_ID:" + w.IDs.PMID + " AND SRC:MED"
	}
}

// Lookup searches for w and returns, in Deps.Formats order: the renderer
// PDF (https://europepmc.org/articles/PMCn?pdf=render) and the free pdf
// links of fullTextUrlList; the fullTextXML endpoint for OA/author
// manuscript records when XML is wanted; then the free html and doi links
// as Landing candidates. No hit is not-found; an errCode inside the 200,
// or hits that are all for another work, is resolver-error; a record with
// no free copy is Closed.
func (e *EuropePMC) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !e.Applicable(w) {
		return Result{}, notApplicable(e.Name())
	}
	q := url.Values{
		"query": {e.query(w)}, "resultType": {"core"}, "format": {"json"},
		"pageSize": {"25"}, "cursorMark": {"*"},
	}
	var s epmcSearch
	if err := e.c.getJSON(ctx, e.base+europePMCRest+"/search?"+q.Encode(), nil, &s); err != nil {
		return Result{}, err
	}
	if s.ErrCode != nil || s.ErrMsg != "" {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "europepmc: error in answer: %v %s", s.ErrCode, s.ErrMsg)
	}
	if s.ResultList == nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "europepmc: answer without resultList")
	}
	if len(s.ResultList.Result) == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "europepmc: no record for %s", e.query(w))
	}
	i := slices.IndexFunc(s.ResultList.Result, func(r epmcResult) bool { return epmcMatches(r, w) })
	if i < 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "europepmc: %d hits, none for %s", len(s.ResultList.Result), e.query(w))
	}
	return e.result(s.ResultList.Result[i]), nil
}

func epmcMatches(r epmcResult, w fulltext.Work) bool {
	switch {
	case w.IDs.PMCID != "":
		return strings.EqualFold(r.PMCID, w.IDs.PMCID) || slices.ContainsFunc(r.FullTextIDs.FullTextID, func(s string) bool { return strings.EqualFold(s, w.IDs.PMCID) })
	case w.IDs.DOI != "":
		return strings.EqualFold(r.DOI, w.IDs.DOI)
	default:
		return r.PMID == w.IDs.PMID
	}
}

func (e *EuropePMC) result(r epmcResult) Result {
	res := Result{Title: strings.TrimSuffix(r.Title, ".")}
	res.Year, _ = strconv.Atoi(r.PubYear)
	pmcid := r.PMCID
	if pmcid == "" && len(r.FullTextIDs.FullTextID) > 0 {
		pmcid = r.FullTextIDs.FullTextID[0]
	}
	for _, s := range []string{"doi:" + r.DOI, "pmid:" + r.PMID, pmcid} {
		if id, err := fulltext.ParseID(s); err == nil {
			res.IDs.Set(id)
		}
	}
	license := strings.ReplaceAll(strings.TrimSpace(r.License), " ", "-")
	oa := r.IsOpenAccess == "Y"
	byKind := map[fulltext.Kind][]fulltext.Candidate{}
	if res.IDs.PMCID != "" && (oa || r.InEPMC == "Y") && r.HasPDF != "N" {
		byKind[fulltext.KindPDF] = append(byKind[fulltext.KindPDF], fulltext.Candidate{
			URL: europePMCSite + "/articles/" + res.IDs.PMCID + "?pdf=render", Technique: "render", License: license})
	}
	if res.IDs.PMCID != "" && (oa || r.AuthMan == "Y" || r.EPMCAuthMan == "Y") {
		byKind[fulltext.KindXML] = append(byKind[fulltext.KindXML], fulltext.Candidate{
			URL: e.base + europePMCRest + "/" + res.IDs.PMCID + "/fullTextXML", Kind: fulltext.KindXML, Technique: "fullTextXML", License: license})
	}
	var landings []fulltext.Candidate
	for _, u := range r.FullTextURLList.FullTextURL {
		if u.AvailabilityCode != "OA" && u.AvailabilityCode != "F" {
			continue
		}
		tech := "fullTextUrlList." + cmp.Or(u.Site, "unknown")
		switch u.DocumentStyle {
		case "pdf":
			byKind[fulltext.KindPDF] = append(byKind[fulltext.KindPDF], fulltext.Candidate{URL: u.URL, Technique: tech, License: license})
		case "html", "doi":
			landings = append(landings, fulltext.Candidate{URL: u.URL, Technique: tech, Landing: true, License: license})
		}
	}
	cs := newCandidates(e.Name())
	for _, k := range e.c.deps.Formats {
		if k == fulltext.KindHTML {
			continue
		}
		for _, c := range byKind[k] {
			cs.add(c)
		}
	}
	for _, c := range landings {
		cs.add(c)
	}
	res.Candidates = cs.done()
	res.Closed = len(res.Candidates) == 0
	return res
}
