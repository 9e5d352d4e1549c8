package landing

import (
	"strings"
	"testing"
)

// FuzzParseLinkHeader: the HTTP Link header parser (RFC 8288, FAIR
// Signposting) never panics, returns at most one link per "<", and never
// returns a target containing the delimiters.
func FuzzParseLinkHeader(f *testing.F) {
	for _, s := range []string{
		`<https://example.org/a.pdf>; rel="item"; type="application/pdf"`,
		`<https://x/a>; rel="cite-as", <https://x/b.xml>; rel="item"; type="application/xml"`,
		`<a>; rel="item, x", <b`, `<>`, `<<>>;;;`, `rel=item`, `"<a>"; rel=x`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		links := parseLinkHeader(v)
		if len(links) > strings.Count(v, "<") {
			t.Errorf("%d links from %d '<' in %q", len(links), strings.Count(v, "<"), v)
		}
		for _, l := range links {
			if strings.ContainsAny(l.href, "<>") {
				t.Errorf("href %q from %q", l.href, v)
			}
		}
	})
}
