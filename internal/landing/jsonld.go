package landing

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// articleTypes are the schema.org types whose files are the work's.
var articleTypes = map[string]bool{
	"scholarlyarticle": true, "article": true, "creativework": true, "thesis": true,
	"report": true, "medicalscholarlyarticle": true, "techarticle": true, "book": true,
	"chapter": true, "dataset": false, "publicationissue": false,
}

// jsonLD adds the files of the article nodes of every JSON-LD block and
// returns the identity they state. Invalid JSON (trailing commas, HTML
// entities, raw newlines in strings) is repaired before giving up on a block.
func jsonLD(c *collector, doc *goquery.Document) Identity {
	var id Identity
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		v, ok := parseLenientJSON(s.Text())
		if !ok {
			return
		}
		for _, node := range articleNodes(v, 0) {
			jsonLDFiles(c, node)
			nodeIdentity(node, &id)
		}
	})
	return id
}

var trailingCommaRe = regexp.MustCompile(`,\s*([}\]])`)

func parseLenientJSON(text string) (any, bool) {
	text = strings.TrimSpace(text)
	text = strings.TrimPrefix(text, "<!--")
	text = strings.TrimSuffix(text, "-->")
	var v any
	if json.Unmarshal([]byte(text), &v) == nil {
		return v, true
	}
	fixed := trailingCommaRe.ReplaceAllString(text, "$1")
	fixed = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(fixed)
	if json.Unmarshal([]byte(fixed), &v) == nil {
		return v, true
	}
	fixed = html.UnescapeString(fixed)
	if json.Unmarshal([]byte(fixed), &v) == nil {
		return v, true
	}
	return nil, false
}

// articleNodes returns the article-typed objects in v: top level, arrays,
// @graph members and mainEntity, to a small depth.
func articleNodes(v any, depth int) []map[string]any {
	if depth > 4 {
		return nil
	}
	var out []map[string]any
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = append(out, articleNodes(e, depth+1)...)
		}
	case map[string]any:
		if isArticleType(t["@type"]) {
			out = append(out, t)
		}
		for _, key := range []string{"@graph", "mainEntity", "mainEntityOfPage"} {
			if sub, ok := t[key]; ok {
				out = append(out, articleNodes(sub, depth+1)...)
			}
		}
	}
	return out
}

func isArticleType(t any) bool {
	switch v := t.(type) {
	case string:
		return articleTypes[strings.ToLower(strings.TrimPrefix(v, "schema:"))]
	case []any:
		for _, e := range v {
			if isArticleType(e) {
				return true
			}
		}
	}
	return false
}

func jsonLDFiles(c *collector, node map[string]any) {
	for _, key := range []string{"encoding", "associatedMedia", "distribution"} {
		for _, m := range objects(node[key]) {
			u := str(m["contentUrl"])
			if u == "" {
				u = str(m["url"])
			}
			format := str(m["encodingFormat"]) + " " + str(m["fileFormat"])
			k := kindOf(format)
			if k == "" {
				k = kindOf(fileExt(u))
			}
			switch k {
			case fulltext.KindPDF:
				c.add(u, k, techJSONLD, scoreJSONLD)
			case fulltext.KindXML:
				c.add(u, k, techJSONLD, scoreXML)
			}
		}
	}
}

func nodeIdentity(node map[string]any, id *Identity) {
	if id.Title == "" {
		id.Title = strings.TrimSpace(str(node["name"]))
		if id.Title == "" {
			id.Title = strings.TrimSpace(str(node["headline"]))
		}
	}
	if id.DOI != "" {
		return
	}
	for _, v := range list(node["identifier"]) {
		switch t := v.(type) {
		case string:
			id.DOI = normDOI(t)
		case map[string]any:
			if strings.EqualFold(str(t["propertyID"]), "doi") || strings.HasPrefix(str(t["value"]), "10.") {
				id.DOI = normDOI(str(t["value"]))
			}
		}
		if id.DOI != "" {
			return
		}
	}
	for _, v := range list(node["sameAs"]) {
		if s, ok := v.(string); ok && strings.Contains(s, "doi.org/") {
			if id.DOI = normDOI(s); id.DOI != "" {
				return
			}
		}
	}
}

func list(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	}
	return []any{v}
}

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, e := range list(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// str returns v as a string with HTML entities decoded (JSON-LD is often
// written by HTML templates), or "".
func str(v any) string {
	s, _ := v.(string)
	if strings.Contains(s, "&") {
		s = html.UnescapeString(s)
	}
	return s
}

// fileExt returns the extension of a URL path ("pdf"), or "".
func fileExt(u string) string {
	u, _, _ = strings.Cut(u, "?")
	u, _, _ = strings.Cut(u, "#")
	i := strings.LastIndexByte(u, '.')
	if i < 0 || strings.ContainsRune(u[i:], '/') {
		return ""
	}
	return strings.ToLower(u[i+1:])
}
