package landing

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// BuildURLs returns the full-text URLs known before fetching anything: from
// the work's identifiers (arXiv → arxiv.org/pdf, PMCID → the Europe PMC
// render, PLOS DOIs → the printable file) and from known URL patterns of the
// page (Wiley pdf→pdfdirect, Atypon abs/full/epdf→pdf, MDPI, PLOS printable,
// OJS view→download, Springer, Nature, Frontiers, bioRxiv, HAL, PMC, IEEE,
// SSRN, OSF, SciELO, arXiv abs). Techniques read "id:<rule>" and
// "pattern:<rule>". The result is best first, absolute and unique; an empty
// or unparsable pageURL yields only the identifier-based URLs.
func BuildURLs(pageURL string, hint Hint) []Link {
	c := newCollector("")
	if ax := arxivID(hint.ArXiv); ax != "" {
		c.add("https://arxiv.org/pdf/"+ax, fulltext.KindPDF, "id:arxiv", 0.97)
	}
	if pmc := pmcID(hint.PMCID); pmc != "" {
		c.add("https://europepmc.org/articles/"+pmc+"?pdf=render", fulltext.KindPDF, "id:europepmc-render", 0.9)
	}
	if doi := normDOI(hint.DOI); doi != "" {
		if ax, ok := strings.CutPrefix(doi, "10.48550/arxiv."); ok && hint.ArXiv == "" {
			if ax = arxivID(ax); ax != "" {
				c.add("https://arxiv.org/pdf/"+ax, fulltext.KindPDF, "id:arxiv", 0.97)
			}
		}
		if m := plosDOIRe.FindStringSubmatch(doi); m != nil {
			journal := plosJournals[m[1]]
			c.add("https://journals.plos.org/"+journal+"/article/file?id="+doi+"&type=printable", fulltext.KindPDF, "id:plos", 0.8)
		}
	}
	if u, err := url.Parse(strings.TrimSpace(pageURL)); err == nil && u.IsAbs() && isHTTP(u.Scheme) && u.Host != "" {
		for _, r := range patternRules {
			if target, ok := r.build(u); ok && target != "" {
				c.add(target, fulltext.KindPDF, techPattern+":"+r.name, r.score)
			}
		}
	}
	return c.result(1)
}

var (
	plosDOIRe    = regexp.MustCompile(`^10\.1371/journal\.(pone|pbio|pmed|pgen|pcbi|ppat|pntd|pclm|pgph|pstr|pwat|pdig)\.\d+$`)
	plosJournals = map[string]string{
		"pone": "plosone", "pbio": "plosbiology", "pmed": "plosmedicine", "pgen": "plosgenetics",
		"pcbi": "ploscompbiol", "ppat": "plospathogens", "pntd": "plosntds", "pclm": "climate",
		"pgph": "globalpublichealth", "pstr": "sustainabilitytransformation", "pwat": "water", "pdig": "digitalhealth",
	}
	atyponPathRe   = regexp.MustCompile(`^/doi/(?:(abs|full|epdf|pdf|book|reader)/)?(10\.\d{4,9}/.+)$`)
	mdpiPathRe     = regexp.MustCompile(`^/\d{4}-\d{3}[\dxX]/\d+/\d+/\d+/?$`)
	springerPathRe = regexp.MustCompile(`^/(?:article|chapter)/(10\.\d{4,9}/.+)$`)
	naturePathRe   = regexp.MustCompile(`^/articles/([a-z0-9._-]+)$`)
	frontiersRe    = regexp.MustCompile(`^/(?:journals/[^/]+/)?articles/(10\.\d{4,9}/[^/]+)(?:/full)?/?$`)
	biorxivRe      = regexp.MustCompile(`^/content/(10\.\d{4,9}/[^/]+?v\d+)(?:\.full|\.abstract|\.article-info)?/?$`)
	halRe          = regexp.MustCompile(`^/((?:hal|tel|inria|inserm|cea|halshs|hal-[a-z]+)-\d{8})(v\d+)?/?$`)
	pmcPathRe      = regexp.MustCompile(`^/(?:pmc/)?articles/(pmc\d+)/?$`)
	europePMCRe    = regexp.MustCompile(`^/(?:article/pmc/|articles/)(pmc\d+)/?$`)
	ieeePathRe     = regexp.MustCompile(`^/(?:abstract/)?document/(\d+)/?`)
	arxivAbsRe     = regexp.MustCompile(`^/abs/(.+?)/?$`)
	osfPathRe      = regexp.MustCompile(`^/(?:preprints/[a-z0-9-]+/)?([a-z0-9]{5})/?$`)
	scieloPathRe   = regexp.MustCompile(`^/j/[a-z]+/a/[a-zA-Z0-9]+/?$`)
)

// queryValueEscaper escapes only what breaks a query value, keeping the
// slashes of DOIs as publishers write them.
var queryValueEscaper = strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", " ", "%20", "+", "%2B")

// patternRule turns a landing-page URL into a PDF URL on a known platform.
type patternRule struct {
	name  string
	score float64
	build func(u *url.URL) (string, bool)
}

func hostIs(u *url.URL, domains ...string) bool {
	h := strings.ToLower(u.Hostname())
	for _, d := range domains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

func withPath(u *url.URL, path, query string) string {
	v := url.URL{Scheme: "https", Host: u.Host, Path: path, RawQuery: query}
	if u.Scheme == "http" {
		v.Scheme = "http"
	}
	return v.String()
}

var patternRules = []patternRule{
	{"wiley-pdfdirect", 0.8, func(u *url.URL) (string, bool) {
		m := atyponPathRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "onlinelibrary.wiley.com") && !strings.HasSuffix(u.Hostname(), "onlinelibrary.wiley.com") {
			return "", false
		}
		return withPath(u, "/doi/pdfdirect/"+m[2], ""), true
	}},
	{"atypon-pdf", 0.7, func(u *url.URL) (string, bool) {
		m := atyponPathRe.FindStringSubmatch(u.Path)
		if m == nil || m[1] == "pdf" || hostIs(u, "onlinelibrary.wiley.com", "doi.org") {
			return "", false
		}
		return withPath(u, "/doi/pdf/"+m[2], ""), true
	}},
	{"mdpi", 0.8, func(u *url.URL) (string, bool) {
		if !hostIs(u, "mdpi.com") || !mdpiPathRe.MatchString(u.Path) {
			return "", false
		}
		return withPath(u, strings.TrimSuffix(u.Path, "/")+"/pdf", ""), true
	}},
	{"plos", 0.8, func(u *url.URL) (string, bool) {
		id := u.Query().Get("id")
		if !hostIs(u, "journals.plos.org") || !strings.HasSuffix(u.Path, "/article") || id == "" {
			return "", false
		}
		return withPath(u, u.Path+"/file", "id="+queryValueEscaper.Replace(id)+"&type=printable"), true
	}},
	{"ojs", 0.75, func(u *url.URL) (string, bool) {
		m := ojsViewRe.FindStringSubmatchIndex(u.Path)
		if m == nil {
			return "", false
		}
		return withPath(u, u.Path[:m[0]]+"/article/download/"+u.Path[m[2]:m[3]]+"/"+u.Path[m[4]:m[5]], ""), true
	}},
	{"springer", 0.8, func(u *url.URL) (string, bool) {
		m := springerPathRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "link.springer.com") {
			return "", false
		}
		return withPath(u, "/content/pdf/"+m[1]+".pdf", ""), true
	}},
	{"nature", 0.8, func(u *url.URL) (string, bool) {
		m := naturePathRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "nature.com") || strings.HasSuffix(m[1], ".pdf") {
			return "", false
		}
		return withPath(u, "/articles/"+m[1]+".pdf", ""), true
	}},
	{"frontiers", 0.8, func(u *url.URL) (string, bool) {
		m := frontiersRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "frontiersin.org") {
			return "", false
		}
		return withPath(u, "/articles/"+m[1]+"/pdf", ""), true
	}},
	{"biorxiv", 0.75, func(u *url.URL) (string, bool) {
		m := biorxivRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "biorxiv.org", "medrxiv.org") {
			return "", false
		}
		return withPath(u, "/content/"+m[1]+".full.pdf", ""), true
	}},
	{"hal", 0.8, func(u *url.URL) (string, bool) {
		m := halRe.FindStringSubmatch(u.Path)
		if m == nil || !strings.Contains(u.Hostname(), "hal") {
			return "", false
		}
		return withPath(u, "/"+m[1]+m[2]+"/document", ""), true
	}},
	{"pmc-europepmc", 0.85, func(u *url.URL) (string, bool) {
		var m []string
		switch {
		case hostIs(u, "pmc.ncbi.nlm.nih.gov", "ncbi.nlm.nih.gov"):
			m = pmcPathRe.FindStringSubmatch(strings.ToLower(u.Path))
		case hostIs(u, "europepmc.org"):
			m = europePMCRe.FindStringSubmatch(strings.ToLower(u.Path))
		}
		if m == nil {
			return "", false
		}
		return "https://europepmc.org/articles/" + strings.ToUpper(m[1]) + "?pdf=render", true
	}},
	{"ieee", 0.6, func(u *url.URL) (string, bool) {
		m := ieeePathRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "ieeexplore.ieee.org") {
			return "", false
		}
		return withPath(u, "/stamp/stamp.jsp", "tp=&arnumber="+m[1]), true
	}},
	{"ssrn", 0.6, func(u *url.URL) (string, bool) {
		id := u.Query().Get("abstract_id")
		if !hostIs(u, "ssrn.com") || id == "" {
			return "", false
		}
		return withPath(u, "/sol3/Delivery.cfm", "abstractid="+url.QueryEscape(id)), true
	}},
	{"osf", 0.7, func(u *url.URL) (string, bool) {
		m := osfPathRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "osf.io") {
			return "", false
		}
		return "https://osf.io/" + m[1] + "/download", true
	}},
	{"scielo", 0.7, func(u *url.URL) (string, bool) {
		if !strings.Contains(u.Hostname(), "scielo") || !scieloPathRe.MatchString(u.Path) {
			return "", false
		}
		q := url.Values{"format": {"pdf"}}
		if l := u.Query().Get("lang"); l != "" {
			q.Set("lang", l)
		}
		return withPath(u, u.Path, q.Encode()), true
	}},
	{"arxiv", 0.95, func(u *url.URL) (string, bool) {
		m := arxivAbsRe.FindStringSubmatch(u.Path)
		if m == nil || !hostIs(u, "arxiv.org") {
			return "", false
		}
		return "https://arxiv.org/pdf/" + m[1], true
	}},
}

// arxivID returns the canonical arXiv id of s, or "".
func arxivID(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	id, err := fulltext.ParseID("arxiv:" + strings.TrimPrefix(strings.TrimSpace(s), "arXiv:"))
	if err != nil || id.Kind != fulltext.KindArXiv {
		return ""
	}
	return id.Value
}

// pmcID returns the canonical PMCID of s ("PMC123"), or "".
func pmcID(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	id, err := fulltext.ParseID("pmcid:" + strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "PMCID:"))
	if err != nil || id.Kind != fulltext.KindPMCID {
		return ""
	}
	return id.Value
}
