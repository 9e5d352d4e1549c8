package source

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Zenodo finds open copies deposited on Zenodo (apis.md §9.3): the record
// itself for a Zenodo DOI (10.5281/zenodo.N → GET /api/records/N), else the
// records whose DOI or related identifiers (isVersionOf, isIdenticalTo, …)
// name the work's DOI (GET /api/records?q=…). Safe for concurrent use.
type Zenodo struct {
	base string
	c    *caller
}

var zenodoDOIRe = regexp.MustCompile(`^10\.5281/zenodo\.(\d+)$`)

func newZenodo(cfg Config, c *caller) *Zenodo {
	return &Zenodo{base: base(cfg, DefaultBaseURL("zenodo")), c: c}
}

// Name returns "zenodo".
func (z *Zenodo) Name() string { return "zenodo" }

// Applicable reports whether w has a DOI.
func (z *Zenodo) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" }

type zenodoFile struct {
	Key   string `json:"key"`
	Links struct {
		Self     string `json:"self"`
		Download string `json:"download"`
	} `json:"links"`
}

type zenodoRecord struct {
	ID       json.Number `json:"id"`
	DOI      string      `json:"doi"`
	Metadata struct {
		Title              string `json:"title"`
		AccessRight        string `json:"access_right"`
		License            any    `json:"license"`
		RelatedIdentifiers []struct {
			Identifier string `json:"identifier"`
			Relation   string `json:"relation"`
			Scheme     string `json:"scheme"`
		} `json:"related_identifiers"`
		ResourceType struct {
			Subtype string `json:"subtype"`
		} `json:"resource_type"`
	} `json:"metadata"`
	Files json.RawMessage `json:"files"`
	Links struct {
		SelfHTML string `json:"self_html"`
	} `json:"links"`
}

// sameWork reports whether a related identifier under relation r is the
// work itself (a version or copy of it) rather than something it cites or
// supplements.
func sameWork(r string) bool {
	switch r {
	case "isVersionOf", "hasVersion", "isIdenticalTo", "isPreviousVersionOf", "isNewVersionOf",
		"isPreprintOf", "isVariantFormOf", "isOriginalFormOf", "isAlternateIdentifier":
		return true
	}
	return false
}

// Lookup returns the PDF files of the open records that are the work (or a
// version of it), then their record pages as Landing candidates. No such
// record is not-found; records that are all restricted or embargoed are
// Closed.
func (z *Zenodo) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !z.Applicable(w) {
		return Result{}, notApplicable(z.Name())
	}
	var recs []zenodoRecord
	if m := zenodoDOIRe.FindStringSubmatch(w.IDs.DOI); m != nil {
		var rec zenodoRecord
		if err := z.c.getJSON(ctx, z.base+"/api/records/"+m[1], nil, &rec); err != nil {
			return Result{}, err
		}
		recs = append(recs, rec)
	} else {
		q := url.Values{"q": {`doi:"` + w.IDs.DOI + `" OR metadata.related_identifiers.identifier:"` + w.IDs.DOI + `"`}, "size": {"10"}}
		var ans struct {
			Hits *struct {
				Hits []zenodoRecord `json:"hits"`
			} `json:"hits"`
		}
		if err := z.c.getJSON(ctx, z.base+"/api/records?"+q.Encode(), nil, &ans); err != nil {
			return Result{}, err
		}
		if ans.Hits == nil {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "zenodo: answer is not a search result")
		}
		recs = ans.Hits.Hits
	}
	var res Result
	cs := newCandidates(z.Name())
	var landings []fulltext.Candidate
	matched, open := 0, 0
	for _, rec := range recs {
		if !zenodoIsWork(rec, w.IDs.DOI) {
			continue
		}
		matched++
		if rec.Metadata.AccessRight != "" && rec.Metadata.AccessRight != "open" {
			continue
		}
		open++
		res.Title = cmpOr(res.Title, rec.Metadata.Title)
		for _, ri := range rec.Metadata.RelatedIdentifiers {
			if id, err := fulltext.ParseID(ri.Identifier); err == nil && id.Kind == fulltext.KindArXiv && res.IDs.ArXiv == "" {
				res.IDs.ArXiv = id.Value
			}
		}
		version := ""
		if rec.Metadata.ResourceType.Subtype == "preprint" {
			version = "submittedVersion"
		}
		license := zenodoLicense(rec.Metadata.License)
		for _, f := range zenodoFiles(rec.Files) {
			if !strings.HasSuffix(strings.ToLower(f.Key), ".pdf") {
				continue
			}
			cs.add(fulltext.Candidate{URL: cmpOr(f.Links.Self, f.Links.Download), Technique: "files", Version: version, License: license})
		}
		landings = append(landings, fulltext.Candidate{URL: rec.Links.SelfHTML, Technique: "links.self_html", Landing: true, Version: version, License: license})
	}
	if matched == 0 {
		return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "zenodo: no record of doi %s", w.IDs.DOI)
	}
	for _, c := range landings {
		cs.add(c)
	}
	res.Candidates = cs.done()
	res.Closed = open == 0
	return res, nil
}

func zenodoIsWork(rec zenodoRecord, doi string) bool {
	if strings.EqualFold(rec.DOI, doi) {
		return true
	}
	for _, ri := range rec.Metadata.RelatedIdentifiers {
		if sameWork(ri.Relation) && strings.EqualFold(strings.TrimSpace(ri.Identifier), doi) {
			return true
		}
	}
	return false
}

// zenodoFiles reads both shapes of "files": the legacy list and
// InvenioRDM's {"entries": {key: file}} (or a list of entries).
func zenodoFiles(raw json.RawMessage) []zenodoFile {
	var list []zenodoFile
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var obj struct {
		Entries json.RawMessage `json:"entries"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	if json.Unmarshal(obj.Entries, &list) == nil {
		return list
	}
	var byKey map[string]zenodoFile
	if json.Unmarshal(obj.Entries, &byKey) != nil {
		return nil
	}
	for k, f := range byKey {
		f.Key = cmpOr(f.Key, k)
		list = append(list, f)
	}
	return list
}

// zenodoLicense reads {"id": "cc-by-4.0"} or a plain string.
func zenodoLicense(v any) string {
	switch l := v.(type) {
	case string:
		return l
	case map[string]any:
		if id, ok := l["id"].(string); ok {
			return id
		}
	}
	return ""
}
