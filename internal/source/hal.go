package source

import (
	"context"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// HAL searches the French open archive HAL (apis.md §9.4) by DOI:
// GET /search/?q=doiId_s:"…"&fl=…&wt=json. Safe for concurrent use.
type HAL struct {
	base string
	c    *caller
}

const halFields = "halId_s,docid,doiId_s,title_s,authFullName_s,publicationDateY_i,docType_s,openAccess_bool,uri_s,fileMain_s,files_s,fileType_s,linkExtUrl_s,arxivId_s,licence_s"

func newHAL(cfg Config, c *caller) *HAL {
	return &HAL{base: base(cfg, DefaultBaseURL("hal")), c: c}
}

// Name returns "hal".
func (h *HAL) Name() string { return "hal" }

// Applicable reports whether w has a DOI.
func (h *HAL) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" }

// Lookup returns, for the documents with the work's DOI: fileMain_s (the
// main file, via /document), the PDF files of files_s, then the record page
// (uri_s) as a Landing candidate when there is a file. No document is
// not-found; documents all with other DOIs are resolver-error; metadata-only
// records are Closed.
func (h *HAL) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !h.Applicable(w) {
		return Result{}, notApplicable(h.Name())
	}
	q := url.Values{"q": {`doiId_s:"` + w.IDs.DOI + `"`}, "fl": {halFields}, "wt": {"json"}}
	var ans struct {
		Response *struct {
			Docs []struct {
				HalID    string   `json:"halId_s"`
				DOI      string   `json:"doiId_s"`
				Title    []string `json:"title_s"`
				Year     int      `json:"publicationDateY_i"`
				URI      string   `json:"uri_s"`
				FileMain string   `json:"fileMain_s"`
				Files    []string `json:"files_s"`
				ArxivID  string   `json:"arxivId_s"`
				Licence  string   `json:"licence_s"`
			} `json:"docs"`
		} `json:"response"`
	}
	if err := h.c.getJSON(ctx, h.base+"/search/?"+q.Encode(), nil, &ans); err != nil {
		return Result{}, err
	}
	if ans.Response == nil {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "hal: answer without response")
	}
	if len(ans.Response.Docs) == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "hal: no document with doi %s", w.IDs.DOI)
	}
	var res Result
	cs := newCandidates(h.Name())
	var landings []fulltext.Candidate
	found := false
	for _, d := range ans.Response.Docs {
		if !strings.EqualFold(strings.TrimSpace(d.DOI), w.IDs.DOI) {
			continue
		}
		found = true
		if len(d.Title) > 0 && res.Title == "" {
			res.Title = d.Title[0]
		}
		if res.Year == 0 {
			res.Year = d.Year
		}
		if id, err := fulltext.ParseID("arXiv:" + d.ArxivID); err == nil && res.IDs.ArXiv == "" {
			res.IDs.ArXiv = id.Value
		}
		license := shortLicense(strings.TrimSpace(d.Licence))
		cs.add(fulltext.Candidate{URL: d.FileMain, Technique: "fileMain_s", License: license})
		for _, f := range d.Files {
			if strings.HasSuffix(strings.ToLower(f), ".pdf") {
				cs.add(fulltext.Candidate{URL: f, Technique: "files_s", License: license})
			}
		}
		if d.FileMain != "" || len(d.Files) > 0 {
			landings = append(landings, fulltext.Candidate{URL: d.URI, Technique: "uri_s", Landing: true, License: license})
		}
	}
	if !found {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "hal: %d documents, none with doi %s", len(ans.Response.Docs), w.IDs.DOI)
	}
	for _, c := range landings {
		cs.add(c)
	}
	res.Candidates = cs.done()
	res.Closed = len(res.Candidates) == 0
	return res, nil
}
