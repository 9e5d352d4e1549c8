package landing

import (
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Technique names (telemetry keys; stable).
const (
	techResponse     = "response-is-file"
	techCitationPDF  = "citation_pdf_url"
	techCitationXML  = "citation_xml_url"
	techCitationHTML = "citation_fulltext_html_url"
	techSignpostHdr  = "signposting-header"
	techSignpostLink = "signposting-link"
	techAlternate    = "link-alternate"
	techJSONLD       = "jsonld"
	techScienceDir   = "sciencedirect-json"
	techViewer       = "viewer"
	techScript       = "script"
	techAnchor       = "anchor"
	techPattern      = "pattern"
	techPageURLPDF   = "page-url-pdf"
)

// Techniques returns every technique name Extract and BuildURLs can put in
// a Link, so that telemetry can report per-technique yield, misses
// included.
func Techniques() []string {
	out := []string{
		techResponse, techSignpostHdr, techSignpostLink, techCitationPDF, techAlternate, techJSONLD,
		techScienceDir, techViewer, techCitationXML, techScript, techAnchor, techCitationHTML, techPageURLPDF,
		"id:arxiv", "id:europepmc-render", "id:plos",
	}
	out = append(out, pdfMetaVariants...)
	for _, r := range platformRules {
		out = append(out, r.name)
	}
	for _, r := range patternRules {
		out = append(out, techPattern+":"+r.name)
	}
	return out
}

// pdfMetaVariants are the other names of citation_pdf_url.
var pdfMetaVariants = []string{
	"bepress_citation_pdf_url", "eprints.document_url", "dc.identifier.pdf",
	"wkhealth_pdf_url", "citation_pdf",
}

// metaTags returns the <meta> name/property → contents map, names lower
// case, contents in document order, entities decoded.
func metaTags(doc *goquery.Document) map[string][]string {
	m := map[string][]string{}
	doc.Find("meta").Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "")
		if name == "" {
			name = s.AttrOr("property", "")
		}
		if name == "" {
			return
		}
		content, ok := s.Attr("content")
		if !ok {
			return
		}
		name = strings.ToLower(strings.TrimSpace(name))
		m[name] = append(m[name], strings.TrimSpace(content))
	})
	return m
}

// highwire adds citation_pdf_url and its variants, citation_xml_url and
// citation_fulltext_html_url. The first citation_pdf_url is the article;
// later ones are often supplements (kept lower unless refused).
func highwire(c *collector, meta map[string][]string) {
	for i, v := range meta["citation_pdf_url"] {
		score := scoreCitationPDF
		if i > 0 {
			score = scoreLaterPDFMeta
		}
		c.add(v, fulltext.KindPDF, techCitationPDF, score)
	}
	for _, name := range pdfMetaVariants {
		for _, v := range meta[name] {
			kind := kindOf(v)
			if name == "eprints.document_url" && kind != fulltext.KindPDF {
				continue
			}
			c.add(v, fulltext.KindPDF, name, scoreMetaVariant)
		}
	}
	for _, v := range meta["citation_xml_url"] {
		c.add(v, fulltext.KindXML, techCitationXML, scoreXML)
	}
	for _, v := range meta["citation_fulltext_html_url"] {
		c.add(v, fulltext.KindHTML, techCitationHTML, scoreHTMLMeta)
	}
}

// identity reads the work's DOI and title from Highwire, Dublin Core, PRISM,
// bepress and OpenGraph tags. JSON-LD fills what they leave empty.
func identity(meta map[string][]string) Identity {
	var id Identity
	for _, name := range []string{
		"citation_doi", "bepress_citation_doi", "prism.doi", "dc.identifier.doi",
		"dc.identifier", "dcterms.identifier", "dc.relation", "eprints.id_number",
	} {
		for _, v := range meta[name] {
			if d := normDOI(v); d != "" {
				id.DOI = d
				break
			}
		}
		if id.DOI != "" {
			break
		}
	}
	for _, name := range []string{
		"citation_title", "bepress_citation_title", "dc.title", "dcterms.title",
		"eprints.title", "prism.title", "og:title",
	} {
		if vs := meta[name]; len(vs) > 0 && vs[0] != "" {
			id.Title = vs[0]
			break
		}
	}
	return id
}

// signpostingHeader adds rel="item" links of the HTTP Link header (FAIR
// Signposting).
func signpostingHeader(c *collector, header http.Header) {
	for _, v := range header.Values("Link") {
		for _, l := range parseLinkHeader(v) {
			if !hasToken(l.rel, "item") {
				continue
			}
			if k := kindOf(l.typ); k == fulltext.KindPDF || k == fulltext.KindXML {
				score := scoreSignpostHdr
				if k == fulltext.KindXML {
					score = scoreXML
				}
				c.add(l.href, k, techSignpostHdr, score)
			}
		}
	}
}

// linkElements adds <link rel=item> (Signposting) and
// <link rel=alternate type=application/pdf>.
func linkElements(c *collector, doc *goquery.Document) {
	doc.Find("link[href]").Each(func(_ int, s *goquery.Selection) {
		rel := strings.ToLower(s.AttrOr("rel", ""))
		k := kindOf(s.AttrOr("type", ""))
		href := s.AttrOr("href", "")
		switch {
		case hasToken(rel, "item") && k == fulltext.KindPDF:
			c.add(href, k, techSignpostLink, scoreSignpostLink)
		case hasToken(rel, "item") && k == fulltext.KindXML:
			c.add(href, k, techSignpostLink, scoreXML)
		case hasToken(rel, "alternate") && k == fulltext.KindPDF:
			c.add(href, k, techAlternate, scoreAlternate)
		}
	})
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(strings.ToLower(list)) {
		if f == tok {
			return true
		}
	}
	return false
}

type headerLink struct{ href, rel, typ string }

// parseLinkHeader parses an RFC 8288 Link header value leniently: bad
// entries are skipped.
func parseLinkHeader(v string) []headerLink {
	var out []headerLink
	for {
		start := strings.IndexByte(v, '<')
		if start < 0 {
			return out
		}
		end := strings.IndexByte(v[start:], '>')
		if end < 0 {
			return out
		}
		// "<<a>": the target starts after the last "<" before ">".
		start += strings.LastIndexByte(v[start:start+end], '<')
		end = strings.IndexByte(v[start:], '>')
		l := headerLink{href: strings.TrimSpace(v[start+1 : start+end])}
		v = v[start+end+1:]
		// Parameters run to the next comma outside quotes.
		i, inQuote := 0, false
		for ; i < len(v); i++ {
			if v[i] == '"' {
				inQuote = !inQuote
			}
			if v[i] == ',' && !inQuote {
				break
			}
		}
		params := v[:i]
		if i < len(v) {
			v = v[i+1:]
		} else {
			v = ""
		}
		for _, p := range splitParams(params) {
			key, val, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "rel":
				l.rel = val
			case "type":
				l.typ = val
			}
		}
		out = append(out, l)
	}
}

// splitParams splits link parameters on semicolons outside quotes.
func splitParams(s string) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
