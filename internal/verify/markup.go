package verify

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"golang.org/x/net/html"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// maxMarkupBytes bounds what JATS and HTML checks read.
const maxMarkupBytes = 4 << 20

// JATS checks a JATS XML document (or the beginning of one) against w:
// <article-id pub-id-type="doi|pmc|pmcid|arxiv"> are declared identifiers,
// the <article-title> of <title-group> a declared title, and the text of
// <front> (title, authors, abstract) stands for the first page.
func (c *Checker) JATS(data []byte, w fulltext.Work) Report {
	d := xml.NewDecoder(bytes.NewReader(data[:min(len(data), maxMarkupBytes)]))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var (
		ev        evidence
		front     strings.Builder
		stack     []string
		idType    string
		cur       strings.Builder
		capturing bool
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			switch t.Name.Local {
			case "article-id":
				idType = ""
				for _, a := range t.Attr {
					if a.Name.Local == "pub-id-type" {
						idType = strings.ToLower(a.Value)
					}
				}
				cur.Reset()
				capturing = true
			case "article-title":
				if inside(stack, "title-group") && len(ev.declaredTitles) == 0 {
					cur.Reset()
					capturing = true
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "article-id":
				if capturing {
					v := strings.TrimSpace(cur.String())
					switch idType {
					case "doi":
						ev.declaredIDs = append(ev.declaredIDs, ident{fulltext.KindDOI, cleanDOI(strings.TrimPrefix(strings.TrimPrefix(v, "https://doi.org/"), "doi:"))})
					case "pmc", "pmcid":
						v = strings.ToUpper(v)
						if !strings.HasPrefix(v, "PMC") {
							v = "PMC" + v
						}
						ev.declaredIDs = append(ev.declaredIDs, ident{fulltext.KindPMCID, v})
					case "arxiv":
						ev.declaredIDs = append(ev.declaredIDs, findIDs("arXiv:"+v)...)
					}
				}
				capturing = false
			case "article-title":
				if capturing {
					ev.declaredTitles = append(ev.declaredTitles, strings.TrimSpace(cur.String()))
				}
				capturing = false
			case "front":
				ev.text = front.String()
				ev.textIDs = findIDs(ev.text)
				rep := Report{}
				rep.Verdict, rep.Reason = decide(w, ev)
				return rep
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if capturing {
				cur.Write(t)
			}
			if inside(stack, "front") && front.Len() < maxMarkupBytes/4 {
				front.Write(t)
				front.WriteByte(' ')
			}
		}
	}
	ev.text = front.String()
	ev.textIDs = findIDs(ev.text)
	var rep Report
	rep.Verdict, rep.Reason = decide(w, ev)
	return rep
}

func inside(stack []string, name string) bool {
	for _, s := range stack {
		if s == name {
			return true
		}
	}
	return false
}

// HTML checks an HTML full-text page against w: the meta tags
// citation_doi, dc.identifier, prism.doi and citation_pmcid are declared
// identifiers; citation_title and dc.title declared titles; the <title>
// and the headings stand for the first page.
func (c *Checker) HTML(page []byte, w fulltext.Work) Report {
	z := html.NewTokenizer(bytes.NewReader(page[:min(len(page), maxMarkupBytes)]))
	var (
		ev       evidence
		text     strings.Builder
		inHead   string
		depthTxt int
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			name := string(tn)
			switch name {
			case "meta":
				var key, content string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch strings.ToLower(string(k)) {
					case "name", "property":
						key = strings.ToLower(string(v))
					case "content":
						content = string(v)
					}
				}
				switch key {
				case "citation_doi", "dc.identifier", "prism.doi", "bepress_citation_doi", "dc.identifier.doi":
					ev.declaredIDs = append(ev.declaredIDs, findIDs(content)...)
				case "citation_pmcid":
					ev.declaredIDs = append(ev.declaredIDs, findIDs(strings.ToUpper(content))...)
				case "citation_arxiv_id":
					ev.declaredIDs = append(ev.declaredIDs, findIDs("arXiv:"+content)...)
				case "citation_title", "dc.title":
					ev.declaredTitles = append(ev.declaredTitles, content)
				}
			case "title", "h1", "h2":
				if tt == html.StartTagToken {
					inHead = name
					depthTxt++
				}
			}
		case html.EndTagToken:
			tn, _ := z.TagName()
			if string(tn) == inHead && depthTxt > 0 {
				depthTxt--
				text.WriteByte(' ')
			}
		case html.TextToken:
			if depthTxt > 0 && text.Len() < 64<<10 {
				text.Write(z.Text())
			}
		}
	}
	ev.text = text.String()
	ev.headings = true // short, but where the title must be
	ev.textIDs = findIDs(ev.text)
	var rep Report
	rep.Verdict, rep.Reason = decide(w, ev)
	return rep
}
