package landing

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Base scores of the techniques, from cheap and precise to heuristic.
const (
	scoreResponse         = 1.0
	scoreSignpostHdr      = 0.96
	scoreSignpostLink     = 0.95
	scorePreferredPattern = 0.95
	scoreCitationPDF      = 0.94
	scoreMetaVariant      = 0.93
	scoreAlternate        = 0.92
	scoreJSONLD           = 0.9
	scoreScienceDirect    = 0.88
	scorePlatform         = 0.85
	scoreViewer           = 0.8
	scoreXML              = 0.75
	scoreLaterPDFMeta     = 0.72
	scoreScript           = 0.7
	scoreAnchor           = 0.55 // plus up to 0.13 for strong wording
	scorePattern          = 0.6
	scoreHTMLMeta         = 0.4
	scorePageURLPDF       = 0.3
)

// collector gathers links, resolving, filtering and de-duplicating them.
type collector struct {
	page    *url.URL // may be nil when the page URL is unknown
	base    *url.URL // <base href> resolved against page, or page
	pageKey string
	doi     string // the work's DOI, lower case; "" disables the check
	links   []Link
	index   map[string]int
}

func newCollector(pageURL string) *collector {
	c := &collector{index: map[string]int{}}
	if u, err := url.Parse(strings.TrimSpace(pageURL)); err == nil && u.IsAbs() && isHTTP(u.Scheme) && u.Host != "" {
		u.Fragment, u.RawFragment = "", ""
		c.page, c.base = u, u
		c.pageKey = u.String()
	}
	return c
}

// setBase honours <base href>.
func (c *collector) setBase(href string) {
	if u := c.resolve(href); u != nil {
		c.base = u
	}
}

// resolve makes raw absolute against the base, or returns nil when it is not
// an http(s) URL (javascript:, mailto:, "#", empty, unparsable).
func (c *collector) resolve(raw string) *url.URL {
	raw = strings.TrimSpace(raw)
	raw = strings.Trim(raw, "\"'")
	if raw == "" || strings.HasPrefix(raw, "#") {
		return nil
	}
	if strings.ContainsAny(raw, "\x00\n\r\t") {
		raw = strings.Map(func(r rune) rune {
			switch r {
			case '\x00', '\n', '\r', '\t':
				return -1
			}
			return r
		}, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if !u.IsAbs() || u.Host == "" && u.Scheme == "" {
		if u.Scheme != "" && !isHTTP(u.Scheme) {
			return nil
		}
		if c.base == nil {
			return nil
		}
		u = c.base.ResolveReference(u)
	}
	if !isHTTP(u.Scheme) || u.Hostname() == "" || u.Opaque != "" {
		return nil
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u
}

func isHTTP(scheme string) bool {
	s := strings.ToLower(scheme)
	return s == "http" || s == "https"
}

// add records a link unless it is refused; a URL found twice keeps its best
// score and that score's technique.
func (c *collector) add(raw string, kind fulltext.Kind, technique string, score float64) bool {
	u := c.resolve(raw)
	if u == nil {
		return false
	}
	s := u.String()
	if s == c.pageKey && technique != techResponse {
		return false
	}
	if i, ok := c.index[s]; ok {
		if i < 0 {
			return false
		}
		if score > c.links[i].Score {
			c.links[i].Score, c.links[i].Technique, c.links[i].Kind = score, technique, kind
		}
		return true
	}
	if c.refused(u) {
		c.index[s] = -1
		return false
	}
	c.index[s] = len(c.links)
	c.links = append(c.links, Link{URL: s, Kind: kind, Technique: technique, Score: score})
	return true
}

// refuseURLSubstrings and refuseURLRe match URLs that are not the work's
// full text: supplements, figures, shops, previews, readers and logins.
var refuseURLSubstrings = []string{
	"suppl", "supporting", "ecommerce", "purchase", "addtocart", "preview",
	"/epdf/", "/doi/reader/", "/login", "showlogin", "/signin", "sign-in", "ssostart",
	"shibboleth", "/wayf", "openathens", "//idp.", "/saml", "showcitformats", "/action/showcit",
	"/erratum", "annex", "anhang", "appendi", ".pdf+html",
}

var (
	refuseURLRe = regexp.MustCompile(`/figures?[/._-]|[/_-]figures|/mmc\d|moesm\d|/buy[/?_-]|/rent[/?]|/cart[/?]|/cover[._-]|/toc[._-]`)
	doiInURLRe  = regexp.MustCompile(`10\.\d{4,9}/`)
)

// refused applies the rules every link obeys, whatever found it.
func (c *collector) refused(u *url.URL) bool {
	host := strings.TrimPrefix(u.Hostname(), "www.")
	if host == "doi.org" || host == "dx.doi.org" || host == "hdl.handle.net" {
		// DOI and handle links are the work's identity (or another
		// work's), never its file.
		return true
	}
	s := strings.ToLower(u.String())
	if dec, err := url.QueryUnescape(s); err == nil {
		s = dec
	}
	for _, sub := range refuseURLSubstrings {
		if strings.Contains(s, sub) {
			return true
		}
	}
	if refuseURLRe.MatchString(s) {
		return true
	}
	return c.otherDOI(s)
}

// otherDOI reports whether the lower-cased, decoded URL s names a DOI that is
// not the work's.
func (c *collector) otherDOI(s string) bool {
	if c.doi == "" {
		return false
	}
	locs := doiInURLRe.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return false
	}
	for _, loc := range locs {
		rest := s[loc[0]:]
		if strings.HasPrefix(rest, c.doi) {
			next := len(c.doi)
			if next == len(rest) || !isDOIChar(rest[next]) {
				return false
			}
		}
	}
	return true
}

func isDOIChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '(' || b == ')'
}

// result returns the links best first (stable among equal scores, so
// earlier, more precise techniques win ties).
func (c *collector) result(factor float64) []Link {
	out := slices.Clone(c.links)
	for i := range out {
		out[i].Score = round3(out[i].Score * factor)
	}
	slices.SortStableFunc(out, func(a, b Link) int { return cmp.Compare(b.Score, a.Score) })
	if out == nil {
		out = []Link{}
	}
	return out
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// kindOf guesses the kind of a file URL or a media type.
func kindOf(s string) fulltext.Kind {
	s = strings.ToLower(s)
	switch {
	case strings.Contains(s, "pdf"):
		return fulltext.KindPDF
	case strings.Contains(s, "xml") || strings.Contains(s, "jats"):
		return fulltext.KindXML
	case strings.Contains(s, "html"):
		return fulltext.KindHTML
	}
	return ""
}

// normDOI returns the canonical DOI in s (any spelling fulltext.ParseID
// accepts), or "".
func normDOI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	id, err := fulltext.ParseID(s)
	if err != nil || id.Kind != fulltext.KindDOI {
		return ""
	}
	return id.Value
}
