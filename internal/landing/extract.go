package landing

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Extract analyses one fetched page: pageURL is the URL it was fetched from
// (after redirects; relative links resolve against it and <base href>),
// status and header are the response's, body its bytes, hint what is known
// of the work.
//
// Links come from these techniques, cheap and precise first, each link
// carrying the technique's name and a score that orders them:
//
//	response-is-file      the body already is a PDF or JATS XML
//	signposting-header    Link: <…>; rel="item"; type="application/pdf"
//	signposting-link      <link rel="item" type="application/pdf">
//	citation_pdf_url      Highwire tags (first one; later ones lower),
//	                      bepress_citation_pdf_url, eprints.document_url
//	link-alternate        <link rel="alternate" type="application/pdf">
//	jsonld                JSON-LD encoding/associatedMedia contentUrl
//	sciencedirect-json    ScienceDirect's embedded article JSON
//	<platform>            OJS galleys (view→download), DSpace 6/7, Atypon,
//	                      Springer, Nature, eLife, HAL, IEEE, PMC, …
//	viewer                embed/iframe/object PDF viewers (pdf.js ?file=)
//	citation_xml_url      JATS XML (kind xml)
//	script                pdfUrl/pdfPath/… in inline scripts
//	pattern               the page URL's known PDF pattern (see BuildURLs)
//	anchor                <a> saying PDF/Download/Full text in several
//	                      languages, on the page without references,
//	                      citing/related works, supplements and footers
//	citation_fulltext_html_url   the HTML full text (kind html)
//	page-url-pdf          page URL + ".pdf", only when the page contains it
//
// Every link is absolute http(s) and unique. Refused whatever found them:
// javascript:, "#", doi.org/handle links, supplements, figures, shops and
// previews ("Purchase PDF"), epdf readers, login/SSO URLs, and links naming
// a DOI other than the work's (hint.DOI, else the page's own DOI).
//
// The verdict is Classify's, except that a body that is a file is an
// article (an error when the status is 4xx/5xx). Walls yield no links except paywalls, whose links are kept at
// half score (see the rules in landing.go). Extract never fails and never
// panics on malformed input.
func Extract(pageURL string, status int, header http.Header, body []byte, hint Hint) Result {
	if header == nil {
		header = http.Header{}
	}
	c := newCollector(pageURL)
	c.doi = normDOI(hint.DOI)
	res := Result{status: status}

	if k := fileKind(body); k != "" {
		res.Verdict = VerdictArticle
		if status >= 400 {
			// A file sent with an error status is not to be trusted.
			res.Verdict = VerdictError
		} else if c.page != nil {
			c.add(c.pageKey, k, techResponse, scoreResponse)
		}
		res.Links = c.result(1)
		return res
	}

	if len(body) > maxPageBytes {
		body = body[:maxPageBytes]
	}
	body = utf8Body(header, body)
	sig := newSignals(body)
	res.Verdict = classify(status, header, sig)
	if loc, ok := Redirect(pageURL, status, header); ok && loc != c.pageKey {
		// A redirect answer: its Location is where the page sends us.
		res.Refresh = loc
	}

	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		// html.Parse fails only on reader errors; treat as an empty page.
		res.Links = []Link{}
		return res
	}
	meta := metaTags(doc)
	res.Identity = identity(meta)
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		c.setBase(href)
	}
	ldID := jsonLDIdentity(doc)
	if res.Identity.DOI == "" {
		res.Identity.DOI = ldID.DOI
	}
	if res.Identity.Title == "" {
		res.Identity.Title = ldID.Title
	}
	if res.Identity.Title == "" && sig.article {
		res.Identity.Title = strings.TrimSpace(doc.Find("title").First().Text())
	}
	if c.doi == "" {
		c.doi = res.Identity.DOI
	}

	switch res.Verdict {
	case VerdictChallenge, VerdictCaptcha, VerdictLogin, VerdictCookie, VerdictError:
		res.Links = []Link{}
		return res
	}

	var p *page
	if len(doc.Nodes) > 0 {
		p = walk(doc.Nodes[0])
	} else {
		p = &page{inputs: map[string]string{}}
	}
	signpostingHeader(c, header)
	linkElements(c, doc)
	highwire(c, meta)
	jsonLD(c, doc)
	scienceDirect(c, doc)
	viewers(c, p)
	scriptURLs(c, p)
	for _, l := range BuildURLs(c.pageKey, Hint{}) {
		score := scorePattern
		if preferredPatterns[l.Technique] {
			score = scorePreferredPattern
		}
		c.add(l.URL, l.Kind, l.Technique, score)
	}
	anchorsAndPlatforms(c, p)
	pageURLPDF(c, body)
	if res.Refresh == "" {
		res.Refresh = refresh(c, doc, p, sig.article)
	}

	factor := 1.0
	if res.Verdict == VerdictPaywall {
		factor = paywallPenalty
	}
	res.Links = c.result(factor)
	return res
}

// maxPageBytes bounds the part of a page that is analysed: landing pages
// are far smaller, and the cost of a hostile page stays bounded.
const maxPageBytes = 8 << 20

// preferredPatterns are URL patterns that beat what the page itself says:
// Wiley's citation_pdf_url (/doi/pdf/) answers an HTML ePDF reader while
// /doi/pdfdirect/ answers the file; PMC's own PDF sits behind a
// proof-of-work page for non-browsers while Europe PMC renders the same
// article.
var preferredPatterns = map[string]bool{
	techPattern + ":wiley-pdfdirect": true,
	techPattern + ":pmc-europepmc":   true,
}

// jsonLDIdentity reads identity from JSON-LD without adding links (links
// are added later, in technique order).
func jsonLDIdentity(doc *goquery.Document) Identity {
	return jsonLD(newCollector(""), doc)
}

// pageURLPDF is the last chance: page URL + ".pdf", only when no PDF was
// found otherwise and the page itself contains that string.
func pageURLPDF(c *collector, body []byte) {
	if c.page == nil {
		return
	}
	for _, l := range c.links {
		if l.Kind == fulltext.KindPDF {
			return
		}
	}
	u := *c.page
	u.RawQuery, u.ForceQuery = "", false
	guess := strings.TrimSuffix(u.String(), "/") + ".pdf"
	if bytes.Contains(body, []byte(guess)) || bytes.Contains(body, []byte(strings.TrimSuffix(u.Path, "/")+".pdf")) && u.Path != "/" && u.Path != "" {
		c.add(guess, fulltext.KindPDF, techPageURLPDF, scorePageURLPDF)
	}
}

// fileKind reports whether body already is a full-text file: a PDF
// (%PDF- within the first KiB, whatever the Content-Type says) or JATS XML.
func fileKind(body []byte) fulltext.Kind {
	head := body[:min(len(body), 1024)]
	if bytes.Contains(head, []byte("%PDF-")) {
		trimmed := bytes.TrimLeft(head, "\xef\xbb\xbf \t\r\n\x00")
		if bytes.HasPrefix(trimmed, []byte("%PDF-")) || !bytes.Contains(bytes.ToLower(head), []byte("<html")) {
			return fulltext.KindPDF
		}
	}
	lower := bytes.ToLower(head)
	trimmed := bytes.TrimLeft(lower, "\xef\xbb\xbf \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("<?xml")) || bytes.HasPrefix(trimmed, []byte("<!doctype article")) || bytes.HasPrefix(trimmed, []byte("<article")) {
		if bytes.Contains(lower, []byte("<article")) && !bytes.Contains(lower, []byte("<html")) {
			return fulltext.KindXML
		}
	}
	return ""
}
