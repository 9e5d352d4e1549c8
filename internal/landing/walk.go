package landing

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// anchor is one <a href> of the cleaned page.
type anchor struct {
	href   string
	text   string // text, aria-label, title and image alt, lower case, spaces collapsed
	class  string // lower case
	inMain bool
}

// page is what one walk over the body collects.
type page struct {
	anchors []anchor
	viewers []string // iframe/frame/embed src, object data
	scripts []string // inline script texts (not JSON-LD)
	inputs  map[string]string
}

// excludedTokens mark containers whose links are not the work's own:
// references, citing and related works, supplements, footers.
var excludedTokens = []string{
	"reference", "ref-list", "reflist", "bibliograph", "citedby", "cited-by", "citing",
	"related", "recommend", "similar", "supplement", "supporting", "footer",
	"also-read", "more-like", "sidebar-ad", "advert",
}

// excludedHeadingRe matches headings that open such a container.
var excludedHeadingRe = regexp.MustCompile(`^\s*(\d+\.?\s*)?(references|bibliography|literature cited|works cited|cited by|citing articles|related|similar articles|recommended|you may also like|people also read|more from|supplementary|supporting information|referenzen|literatur|références|bibliographie|referencias|referências|riferimenti|参考文献)`)

// walk collects anchors, viewers, inline scripts and hidden inputs of the
// body, skipping excluded containers for anchors.
func walk(root *html.Node) *page {
	p := &page{inputs: map[string]string{}}
	var visit func(n *html.Node, excluded, inMain bool)
	visit = func(n *html.Node, excluded, inMain bool) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Footer:
				excluded = true
			case atom.Main, atom.Article:
				inMain = true
			}
			if !excluded && isExcludedContainer(n) {
				excluded = true
			}
			if attr(n, "role") == "main" {
				inMain = true
			}
			switch n.DataAtom {
			case atom.A:
				if href, ok := attrOK(n, "href"); ok && !excluded {
					p.anchors = append(p.anchors, anchor{
						href:   href,
						text:   anchorText(n),
						class:  strings.ToLower(attr(n, "class") + " " + attr(n, "id")),
						inMain: inMain,
					})
				}
			case atom.Iframe, atom.Frame, atom.Embed:
				if src := attr(n, "src"); src != "" && !excluded {
					p.viewers = append(p.viewers, src)
				}
			case atom.Object:
				if src := attr(n, "data"); src != "" && !excluded {
					p.viewers = append(p.viewers, src)
				}
			case atom.Script:
				typ := strings.ToLower(attr(n, "type"))
				if attr(n, "src") == "" && typ != "application/ld+json" && n.FirstChild != nil {
					p.scripts = append(p.scripts, n.FirstChild.Data)
				}
				return
			case atom.Input:
				for _, key := range []string{attr(n, "name"), attr(n, "id")} {
					if key != "" {
						p.inputs[strings.ToLower(key)] = attr(n, "value")
					}
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			visit(ch, excluded, inMain)
		}
	}
	visit(root, false, false)
	return p
}

func isExcludedContainer(n *html.Node) bool {
	switch n.DataAtom {
	case atom.A, atom.Span, atom.Button, atom.Html, atom.Body, atom.Main, atom.Article:
		return false
	}
	idc := strings.ToLower(attr(n, "id") + " " + attr(n, "class"))
	for _, t := range excludedTokens {
		if strings.Contains(idc, t) {
			return true
		}
	}
	switch n.DataAtom {
	case atom.Section, atom.Div, atom.Aside, atom.Nav, atom.Ul, atom.Ol:
	default:
		return false
	}
	// A container opened by a heading such as "References".
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.TextNode && strings.TrimSpace(ch.Data) == "" {
			continue
		}
		if ch.Type != html.ElementNode {
			return false
		}
		switch ch.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Header:
			return excludedHeadingRe.MatchString(strings.ToLower(textOf(ch)))
		}
		return false
	}
	return false
}

func anchorText(n *html.Node) string {
	parts := []string{textOf(n), attr(n, "aria-label"), attr(n, "title"), attr(n, "data-title")}
	var alts func(*html.Node)
	alts = func(m *html.Node) {
		for ch := m.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && ch.DataAtom == atom.Img {
				parts = append(parts, attr(ch, "alt"))
			}
			alts(ch)
		}
	}
	alts(n)
	return strings.ToLower(strings.Join(strings.Fields(strings.Join(parts, " ")), " "))
}

// textOf returns the text content of n, capped to keep huge nodes cheap.
func textOf(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(m *html.Node) {
		if b.Len() > 500 {
			return
		}
		if m.Type == html.TextNode {
			b.WriteString(m.Data)
			b.WriteByte(' ')
		}
		for ch := m.FirstChild; ch != nil; ch = ch.NextSibling {
			rec(ch)
		}
	}
	rec(n)
	return b.String()
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}
