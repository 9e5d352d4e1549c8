package source

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// pmcCloud is the PMC Cloud Service bucket (apis.md §5.4), the replacement
// of the legacy FTP files NCBI removed in August 2026.
const pmcCloud = "https://pmc-oa-opendata.s3.amazonaws.com"

// cloud returns the PMC Cloud Service copies of pmcid: the latest
// version's PDF and, when XML is wanted, its JATS XML. An article absent
// from the bucket gives no candidates and no error.
func (p *PMC) cloud(ctx context.Context, pmcid string) ([]fulltext.Candidate, error) {
	prefix := "metadata/" + pmcid + "."
	q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
	r, err := p.c.fetch(ctx, http.MethodGet, p.cloudHost+"/?"+q.Encode(), http.Header{"Accept": {"application/xml"}}, nil)
	if err != nil {
		return nil, err
	}
	if err := p.c.statusError(r); err != nil {
		return nil, err
	}
	var list struct {
		Contents []struct {
			Key string `xml:"Key"`
		} `xml:"Contents"`
	}
	if err := xml.Unmarshal(r.body, &list); err != nil {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "pmc: decode cloud listing: %v", err)
	}
	latest := 0
	for _, c := range list.Contents {
		v, ok := strings.CutPrefix(c.Key, prefix)
		if !ok {
			continue
		}
		v, ok = strings.CutSuffix(v, ".json")
		if n, err := strconv.Atoi(v); ok && err == nil && n > latest {
			latest = n
		}
	}
	if latest == 0 {
		return nil, nil
	}
	var meta struct {
		PMCID        string `json:"pmcid"`
		IsManuscript bool   `json:"is_manuscript"`
		LicenseCode  string `json:"license_code"`
		PDFURL       string `json:"pdf_url"`
		XMLURL       string `json:"xml_url"`
	}
	if err := p.c.getJSON(ctx, p.cloudHost+"/"+prefix+strconv.Itoa(latest)+".json", nil, &meta); err != nil {
		return nil, err
	}
	if !strings.EqualFold(meta.PMCID, pmcid) {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "pmc: cloud metadata for %s is about %q", pmcid, meta.PMCID)
	}
	version := "publishedVersion"
	if meta.IsManuscript {
		version = "acceptedVersion"
	}
	license := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(meta.LicenseCode), " ", "-"))
	var out []fulltext.Candidate
	if u := s3ToHTTPS(meta.PDFURL); u != "" {
		out = append(out, fulltext.Candidate{URL: u, Kind: fulltext.KindPDF, Technique: "pmc-cloud.pdf_url", Version: version, License: license})
	}
	if u := s3ToHTTPS(meta.XMLURL); u != "" {
		out = append(out, fulltext.Candidate{URL: u, Kind: fulltext.KindXML, Technique: "pmc-cloud.xml_url", Version: version, License: license})
	}
	return out, nil
}

// s3ToHTTPS turns s3://pmc-oa-opendata/key?md5=… into the bucket's HTTPS
// URL without the query; https URLs of the bucket pass; anything else is "".
func s3ToHTTPS(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if key, ok := strings.CutPrefix(s, "s3://pmc-oa-opendata/"); ok && key != "" {
		return pmcCloud + "/" + key
	}
	if strings.HasPrefix(s, pmcCloud+"/") {
		return s
	}
	return ""
}
