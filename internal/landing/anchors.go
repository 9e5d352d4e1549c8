package landing

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// platformRule recognises the file links of one publishing platform by URL.
type platformRule struct {
	name string
	re   *regexp.Regexp // on the lower-cased absolute URL
	// rewrite turns a viewer URL into the file URL, or is nil.
	rewrite func(u *url.URL) string
}

var ojsViewRe = regexp.MustCompile(`/article/view/(\d+)/(\d+)/?$`)

// platformRules are tried in order on every anchor of the cleaned page.
var platformRules = []platformRule{
	{name: "ojs-galley", re: regexp.MustCompile(`/article/(view|download)/\d+/\d+`), rewrite: func(u *url.URL) string {
		// OJS: /article/view/{id}/{galley} is an HTML viewer around the file
		// served at /article/download/{id}/{galley}.
		if m := ojsViewRe.FindStringSubmatchIndex(u.Path); m != nil {
			v := *u
			v.Path = u.Path[:m[0]] + "/article/download/" + u.Path[m[2]:m[3]] + "/" + u.Path[m[4]:m[5]]
			v.RawPath = ""
			return v.String()
		}
		return u.String()
	}},
	{name: "dspace", re: regexp.MustCompile(`/bitstream/|/bitstreams/[0-9a-f-]{36}/(download|content)`)},
	{name: "atypon", re: regexp.MustCompile(`/doi/(pdf|pdfdirect|pdfplus)/10\.`)},
	{name: "springer", re: regexp.MustCompile(`/content/pdf/10\.[^?]+\.pdf`)},
	{name: "nature", re: regexp.MustCompile(`nature\.com/articles/[^/?]+\.pdf`)},
	{name: "elife", re: regexp.MustCompile(`elifesciences\.org/.*elife-\d+-v\d+\.pdf|elifesciences\.org/articles/\d+\.pdf`)},
	{name: "hal", re: regexp.MustCompile(`//[^/]*hal[^/]*/[^?]+/(document|file/[^/?]+\.pdf)$`)},
	{name: "sciencedirect", re: regexp.MustCompile(`/science/article/pii/[^/]+/pdfft`)},
	{name: "ieee", re: regexp.MustCompile(`/stamp/stamp\.jsp\?.*arnumber=|/stamppdf/getpdf\.jsp`)},
	{name: "pmc", re: regexp.MustCompile(`/articles/pmc\d+/pdf/`)},
	{name: "europepmc", re: regexp.MustCompile(`europepmc\.org/.*pdf=render|ptpmcrender\.fcgi`)},
	{name: "biorxiv", re: regexp.MustCompile(`/content/10\.\d+/[^?]+\.full\.pdf`)},
	{name: "oup", re: regexp.MustCompile(`/article-pdf/`)},
	{name: "cambridge", re: regexp.MustCompile(`/core/services/aop-cambridge-core/content/view/`)},
	{name: "frontiers", re: regexp.MustCompile(`frontiersin\.org/articles/10\.[^?]+/pdf`)},
	{name: "mdpi", re: regexp.MustCompile(`mdpi\.com/[^?]+/pdf(\?|$)`)},
	{name: "plos", re: regexp.MustCompile(`/article/file\?.*type=printable`)},
	{name: "arxiv", re: regexp.MustCompile(`arxiv\.org/pdf/`)},
	{name: "zenodo", re: regexp.MustCompile(`zenodo\.org/records?/\d+/files/[^?]+\.pdf`)},
	{name: "figshare", re: regexp.MustCompile(`figshare\.com/(ndownloader/)?files/\d+`)},
	{name: "osf", re: regexp.MustCompile(`osf\.io/[a-z0-9]{5}/download`)},
	{name: "ssrn", re: regexp.MustCompile(`ssrn\.com/sol3/delivery\.cfm`)},
	{name: "scielo", re: regexp.MustCompile(`scielo[^/]*/.*(format=pdf|/pdf/)`)},
	{name: "jstage", re: regexp.MustCompile(`jstage\.jst\.go\.jp/article/.*/_pdf`)},
	{name: "redalyc", re: regexp.MustCompile(`redalyc\.org/(pdf|journal)/.*\.pdf`)},
	{name: "eprints", re: regexp.MustCompile(`^https?://[^/]+/(id/eprint/)?\d+/\d+/[^/?]+\.pdf$`)},
	{name: "semanticscholar", re: regexp.MustCompile(`pdfs\.semanticscholar\.org/`)},
}

var (
	pdfWordRe = regexp.MustCompile(`(^|[^a-z])e?pdf([^a-z]|$)`)
	// downloadWords and fullTextWords say "download" and "full text" in
	// several languages.
	downloadWords = []string{"download", "télécharger", "telecharger", "herunterladen", "descargar", "baixar",
		"scarica", "pobierz", "скачать", "ダウンロード", "下载", "下載", "indir", "stáhnout", "letöltés",
		"ladda ner", "last ned", "downloaden"}
	fullTextWords = []string{"full text", "fulltext", "full-text", "texte intégral", "texte complet", "volltext",
		"texto completo", "texto integral", "testo completo", "pełny tekst", "полный текст", "全文", "tam metin",
		"plný text", "volledige tekst", "view article", "read article"}
	// refuseTextWords and refuseTextRe match anchor wording for what is not
	// the article.
	refuseTextWords = []string{"suppl", "supporting", "figure", "purchase", "preview", "get access", "epdf",
		"e-reader", "citation", "cite this", "bibtex", "endnote", "slides", "poster", "erratum", "correction",
		"license", "licence", "permission", "request", "register", "another article", "table of contents",
		"issue pdf", "full issue", "abstract book", "epub", "annex", "anhang", "appendi", "zusatz", "anexo", "allegat",
		"guideline", "instructions for", "policy", "template", "flyer", "brochure", "catalog", "price list", "terms"}
	refuseTextRe  = regexp.MustCompile(`^buy|buy |buy$|\brent\b|\bris\b|log ?in|sign ?in|\breprint|\bcover\b|\btoc\b`)
	fileHrefRe    = regexp.MustCompile(`download|telecharg|descarg|/file|fulltext|deliver|bitstream|viewcontent|getfile`)
	otherFormatRe = regexp.MustCompile(`(^|[^a-z])(html|xml|epub|mobi|audio|video|mp4|zip|docx?)([^a-z]|$)`)
)

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// nonDocExt are extensions of files that are never the full text.
var nonDocExt = map[string]bool{
	"jpg": true, "jpeg": true, "png": true, "gif": true, "svg": true, "webp": true, "txt": true,
	"zip": true, "gz": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "csv": true,
	"mp4": true, "mov": true, "epub": true, "ppt": true, "pptx": true, "ris": true, "bib": true,
}

// anchorsAndPlatforms adds platform links and heuristic anchor links of the
// cleaned page.
func anchorsAndPlatforms(c *collector, p *page) {
	for _, a := range p.anchors {
		u := c.resolve(a.href)
		if u == nil {
			continue
		}
		if a.text != "" && (containsAny(a.text, refuseTextWords) || refuseTextRe.MatchString(a.text)) {
			continue
		}
		lower := strings.ToLower(u.String())
		textPDF := pdfWordRe.MatchString(a.text) || strings.Contains(a.class, "pdf")
		otherFmt := !textPDF && otherFormatRe.MatchString(a.text)
		if rule, ok := matchPlatform(lower); ok {
			if nonDocExt[fileExt(u.Path)] {
				continue
			}
			if otherFmt {
				if rule.name == "ojs-galley" && strings.Contains(a.text, "xml") {
					c.add(rule.target(u), fulltext.KindXML, rule.name, scoreXML)
				}
				continue
			}
			c.add(rule.target(u), fulltext.KindPDF, rule.name, scorePlatform)
			continue
		}
		ext := fileExt(u.Path)
		hrefPDF := ext == "pdf" || strings.Contains(lower, "/pdf") || strings.Contains(lower, "pdf=") ||
			strings.Contains(lower, "type=pdf") || strings.Contains(lower, "format=pdf")
		textDL := containsAny(a.text, downloadWords)
		textFull := containsAny(a.text, fullTextWords)
		switch {
		case ext == "xml" && (textDL || textFull):
			c.add(u.String(), fulltext.KindXML, techAnchor, scoreXML-0.1)
			continue
		case otherFmt:
			continue
		case textPDF, ext == "pdf", hrefPDF && (textDL || textFull), textDL && textFull && fileHrefRe.MatchString(lower):
		default:
			continue
		}
		score := scoreAnchor
		if textPDF {
			score += 0.06
		}
		if textDL || textFull {
			score += 0.03
		}
		if hrefPDF {
			score += 0.03
		}
		if a.inMain {
			score += 0.01
		}
		c.add(u.String(), fulltext.KindPDF, techAnchor, score)
	}
}

func matchPlatform(lowerURL string) (platformRule, bool) {
	for _, r := range platformRules {
		if r.re.MatchString(lowerURL) {
			return r, true
		}
	}
	return platformRule{}, false
}

func (r platformRule) target(u *url.URL) string {
	if r.rewrite != nil {
		return r.rewrite(u)
	}
	return u.String()
}

// viewers adds the files shown by embed/iframe/object PDF viewers,
// including pdf.js viewers that name the file in a "file" parameter.
func viewers(c *collector, p *page) {
	for _, src := range p.viewers {
		u := c.resolve(src)
		if u == nil {
			continue
		}
		if f := u.Query().Get("file"); f != "" {
			if v := c.resolve(f); v != nil {
				c.add(v.String(), fulltext.KindPDF, techViewer, scoreViewer)
				continue
			}
		}
		lower := strings.ToLower(u.String())
		if _, ok := matchPlatform(lower); ok || fileExt(u.Path) == "pdf" || strings.Contains(lower, "pdf") {
			c.add(u.String(), fulltext.KindPDF, techViewer, scoreViewer)
		}
	}
}
