package source

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// OSF reads OSF Preprints (apis.md §9.5) for works whose DOI is an OSF
// preprint DOI (10.31219/osf.io/{guid}, PsyArXiv 10.31234, SocArXiv
// 10.31235, …): GET /v2/preprints/{guid}/, then its primary file's
// /v2/files/{id}/ for the download link. Safe for concurrent use.
type OSF struct {
	base string
	// rebase is true when BaseURL is set: the API links OSF returns are then
	// followed under BaseURL instead of api.osf.io.
	rebase bool
	c      *caller
}

var osfDOIRe = regexp.MustCompile(`^10\.\d{4,9}/osf\.io/([a-z0-9]{4,})(?:_v\d+)?$`)

func newOSF(cfg Config, c *caller) *OSF {
	return &OSF{base: base(cfg, DefaultBaseURL("osf")), rebase: cfg.BaseURL != "", c: c}
}

// Name returns "osf".
func (o *OSF) Name() string { return "osf" }

// Applicable reports whether w's DOI is an OSF preprint DOI.
func (o *OSF) Applicable(w fulltext.Work) bool { return osfDOIRe.MatchString(w.IDs.DOI) }

type osfDoc struct {
	Data *struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Attributes struct {
			Title string `json:"title"`
			DOI   string `json:"doi"`
			Name  string `json:"name"`
		} `json:"attributes"`
		Relationships struct {
			PrimaryFile struct {
				Links struct {
					Related struct {
						Href string `json:"href"`
					} `json:"related"`
				} `json:"links"`
			} `json:"primary_file"`
		} `json:"relationships"`
		Links struct {
			Download string `json:"download"`
			HTML     string `json:"html"`
		} `json:"links"`
	} `json:"data"`
}

// Lookup returns the primary file's download link, then the
// https://osf.io/{guid}/download shortcut, then the preprint page as a
// Landing candidate. The published article's DOI (attributes.doi) is not
// learned: it identifies another work. A preprint without a primary file is
// Closed.
func (o *OSF) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	m := osfDOIRe.FindStringSubmatch(w.IDs.DOI)
	if m == nil {
		return Result{}, notApplicable(o.Name())
	}
	guid := m[1]
	var pre osfDoc
	if err := o.c.getJSON(ctx, o.base+"/v2/preprints/"+guid+"/", nil, &pre); err != nil {
		return Result{}, err
	}
	if pre.Data == nil || !strings.EqualFold(pre.Data.ID, guid) {
		return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "osf: answer is not preprint %s", guid)
	}
	res := Result{Title: pre.Data.Attributes.Title}
	cs := newCandidates(o.Name())
	if href := pre.Data.Relationships.PrimaryFile.Links.Related.Href; href != "" {
		fu, err := o.follow(href)
		if err != nil {
			return Result{}, err
		}
		var file osfDoc
		if err := o.c.getJSON(ctx, fu, nil, &file); err != nil {
			return Result{}, err
		}
		if file.Data == nil {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "osf: primary file answer without data")
		}
		cs.add(fulltext.Candidate{URL: file.Data.Links.Download, Technique: "primary_file", Version: "submittedVersion"})
		cs.add(fulltext.Candidate{URL: "https://osf.io/" + guid + "/download", Technique: "guid-download", Version: "submittedVersion"})
		cs.add(fulltext.Candidate{URL: pre.Data.Links.HTML, Technique: "links.html", Landing: true, Version: "submittedVersion"})
	}
	res.Candidates = cs.done()
	res.Closed = len(res.Candidates) == 0
	return res, nil
}

// follow turns an API link from an OSF answer into the URL to request:
// unchanged, or moved under BaseURL when one is configured. Links that are
// not http(s) are resolver-error.
func (o *OSF) follow(href string) (string, error) {
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fulltext.Errorf(fulltext.CodeResolverError, "osf: bad api link %q", href)
	}
	if !o.rebase {
		return href, nil
	}
	rest := u.EscapedPath()
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	return o.base + rest, nil
}
