package landing

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/oafetch/oafetch/internal/fulltext"
)

var (
	// scriptURLRe finds PDF URLs assigned to well-known names in inline
	// scripts: pdfUrl: "…", "pdfPath":"…", var pdf_url = '…'.
	scriptURLRe = regexp.MustCompile(`(?i)["']?\b(pdf_?url|pdf_?path|pdf_?link|pdf_?src|pdf_?file|pdf_?download_?url|download_?pdf_?url|full_?text_?pdf_?url|citation_?pdf_?url|pdfviewer_?url)\b["']?\s*[:=]\s*["']([^"'\s<>]{4,})["']`)
	// jsLocationRe finds JavaScript location bounces.
	jsLocationRe = regexp.MustCompile(`(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*["']([^"'\s<>]+)["']|location\.(?:replace|assign)\(\s*["']([^"'\s<>]+)["']\s*\)`)
	refreshRe    = regexp.MustCompile(`(?i)^\s*(\d*)(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(.*)$`)
)

// unescapeJS undoes the escapes JSON and JavaScript put in URLs.
func unescapeJS(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\/`, `/`, `\u002F`, `/`, `\u002f`, `/`, `\u0026`, `&`, `\x26`, `&`, `\u003d`, `=`, `\u003D`, `=`).Replace(s)
}

// scriptURLs adds PDF URLs named in inline scripts.
func scriptURLs(c *collector, p *page) {
	for _, s := range p.scripts {
		for _, m := range scriptURLRe.FindAllStringSubmatch(s, 20) {
			c.add(unescapeJS(m[2]), fulltext.KindPDF, techScript, scoreScript)
		}
	}
}

// scienceDirect adds the PDF of Elsevier ScienceDirect pages, built from the
// article metadata the page embeds as JSON
// (article.pdfDownload.urlMetadata: path, pii, pdfExtension, md5, pid).
func scienceDirect(c *collector, doc *goquery.Document) {
	doc.Find(`script[type="application/json"]`).Each(func(_ int, s *goquery.Selection) {
		text := s.Text()
		if !strings.Contains(text, "pdfDownload") {
			return
		}
		var v struct {
			Article struct {
				PDFDownload struct {
					IsPDFFullText *bool  `json:"isPdfFullText"`
					LinkToPDF     string `json:"linkToPdf"`
					URLMetadata   struct {
						Path         string            `json:"path"`
						PII          string            `json:"pii"`
						PDFExtension string            `json:"pdfExtension"`
						QueryParams  map[string]string `json:"queryParams"`
					} `json:"urlMetadata"`
				} `json:"pdfDownload"`
			} `json:"article"`
		}
		if json.Unmarshal([]byte(text), &v) != nil {
			return
		}
		d := v.Article.PDFDownload
		if d.IsPDFFullText != nil && !*d.IsPDFFullText {
			// The "PDF" of a closed article is a first-page preview.
			return
		}
		if d.LinkToPDF != "" {
			c.add(d.LinkToPDF, fulltext.KindPDF, techScienceDir, scoreScienceDirect)
			return
		}
		m := d.URLMetadata
		if m.PII == "" || m.Path == "" {
			return
		}
		q := url.Values{}
		for k, val := range m.QueryParams {
			q.Set(k, val)
		}
		u := "/" + strings.Trim(m.Path, "/") + "/" + url.PathEscape(m.PII) + m.PDFExtension
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		c.add(u, fulltext.KindPDF, techScienceDir, scoreScienceDirect)
	})
}

// maxRefreshDelay is the longest meta refresh taken for a redirect; longer
// ones are session time-outs ("refresh 1800; url=/logout").
const maxRefreshDelay = 10

// refresh returns where the page sends the browser: <meta http-equiv=refresh>
// with a URL and a short delay, or — on pages without article metadata, where
// it cannot be a button's handler — a JavaScript location bounce or an
// interstitial redirect form (Elsevier linkinghub's redirectURL). A target
// equal to the page is ignored.
func refresh(c *collector, doc *goquery.Document, p *page, article bool) string {
	var targets []string
	doc.Find("meta[http-equiv]").Each(func(_ int, s *goquery.Selection) {
		if !strings.EqualFold(strings.TrimSpace(s.AttrOr("http-equiv", "")), "refresh") {
			return
		}
		content := s.AttrOr("content", "")
		m := refreshRe.FindStringSubmatch(content)
		if m == nil || strings.TrimSpace(m[2]) == "" || !strings.ContainsAny(strings.ToLower(content), "=/") {
			return
		}
		if delay, err := strconv.Atoi(m[1]); err == nil && delay > maxRefreshDelay {
			return
		}
		targets = append(targets, strings.Trim(strings.TrimSpace(m[2]), `"'`))
	})
	if article {
		return firstTarget(c, targets)
	}
	if v := p.inputs["redirecturl"]; v != "" {
		if dec, err := url.QueryUnescape(v); err == nil {
			v = dec
		}
		targets = append(targets, v)
	}
	for _, s := range p.scripts {
		for _, m := range jsLocationRe.FindAllStringSubmatch(s, 5) {
			targets = append(targets, unescapeJS(m[1]+m[2]))
		}
	}
	return firstTarget(c, targets)
}

func firstTarget(c *collector, targets []string) string {
	for _, t := range targets {
		if u := c.resolve(t); u != nil && u.String() != c.pageKey {
			return u.String()
		}
	}
	return ""
}
