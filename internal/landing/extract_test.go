package landing

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func urls(links []Link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.URL
	}
	return out
}

func TestExtractURLHandling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pageURL string
		body    string
		hint    Hint
		want    []string
	}{
		{
			name:    "relative against page URL",
			pageURL: "https://pub.example/a/b/article",
			body:    `<meta name="citation_pdf_url" content="../files/x.pdf">`,
			want:    []string{"https://pub.example/a/files/x.pdf"},
		},
		{
			name:    "relative against base href",
			pageURL: "https://pub.example/a/b/article",
			body:    `<head><base href="https://cdn.example/root/"><meta name="citation_pdf_url" content="x.pdf"></head>`,
			want:    []string{"https://cdn.example/root/x.pdf"},
		},
		{
			name:    "relative base href",
			pageURL: "https://pub.example/a/b/article",
			body:    `<head><base href="/c/"><meta name="citation_pdf_url" content="x.pdf"></head>`,
			want:    []string{"https://pub.example/c/x.pdf"},
		},
		{
			name:    "entities decoded",
			pageURL: "https://pub.example/item",
			body:    `<meta name="citation_pdf_url" content="https://pub.example/get?id=1&amp;type=pdf">`,
			want:    []string{"https://pub.example/get?id=1&type=pdf"},
		},
		{
			name:    "protocol-relative",
			pageURL: "http://pub.example/item",
			body:    `<meta name="citation_pdf_url" content="//files.example/x.pdf">`,
			want:    []string{"http://files.example/x.pdf"},
		},
		{
			name:    "javascript, fragments, mailto and doi.org dropped",
			pageURL: "https://pub.example/item",
			body: `<main><a href="javascript:void(0)">Download PDF</a><a href="#pdf">PDF</a><a href="mailto:x@y">PDF</a>
				<a href="https://doi.org/10.5555/a.1">PDF</a><a href="https://pub.example/x.pdf#page=2">PDF</a></main>`,
			hint: Hint{DOI: "10.5555/a.1"},
			want: []string{"https://pub.example/x.pdf"},
		},
		{
			name:    "links to other DOIs refused, own DOI kept, URL-encoded too",
			pageURL: "https://pub.example/doi/10.5555/a.1",
			body: `<a href="/doi/pdf/10.5555/a.10">PDF</a><a href="/download?doi=10.5555%2Fb.2">Download PDF</a>
				<a href="/download?doi=10.5555%2Fa.1&type=pdf">Download PDF</a>`,
			hint: Hint{DOI: "10.5555/A.1"},
			want: []string{"https://pub.example/download?doi=10.5555%2Fa.1&type=pdf", "https://pub.example/doi/pdf/10.5555/a.1"},
		},
		{
			name:    "page DOI guards when no hint",
			pageURL: "https://pub.example/doi/10.5555/a.1",
			body:    `<meta name="citation_doi" content="10.5555/a.1"><a href="/doi/pdf/10.5555/zz.9">PDF</a>`,
			want:    []string{"https://pub.example/doi/pdf/10.5555/a.1"},
		},
		{
			name:    "unknown page URL keeps only absolute links",
			pageURL: "",
			body:    `<meta name="citation_pdf_url" content="/rel.pdf"><link rel="alternate" type="application/pdf" href="https://abs.example/a.pdf">`,
			want:    []string{"https://abs.example/a.pdf"},
		},
		{
			name:    "refusals by wording",
			pageURL: "https://pub.example/item",
			body: `<main><a href="/s1.pdf">Supplementary data (PDF)</a><a href="/f.pdf">Figures PDF</a><a href="/buy.pdf">Purchase PDF</a>
				<a href="/doi/epdf/10.5555/a.1">PDF</a><a href="/cite.pdf">Download citation</a><a href="/main.pdf">PDF</a></main>`,
			want: []string{"https://pub.example/main.pdf"},
		},
		{
			name:    "page URL + .pdf only when the page says so",
			pageURL: "https://pub.example/papers/42",
			body:    `<script>var x = "https://pub.example/papers/42.pdf";</script>`,
			want:    []string{"https://pub.example/papers/42.pdf"},
		},
		{
			name:    "no page-url guess without evidence",
			pageURL: "https://pub.example/papers/42",
			body:    `<p>nothing</p>`,
			want:    []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Extract(tt.pageURL, 200, nil, []byte(tt.body), tt.hint)
			checkInvariants(t, r)
			got := urls(r.Links)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("links = %q, want %q (%+v)", got, tt.want, r.Links)
			}
		})
	}
}

func TestExtractResponseIsFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		kind fulltext.Kind
	}{
		{"pdf", "%PDF-1.7\n1 0 obj\n%%EOF", fulltext.KindPDF},
		{"pdf with BOM and blank lines", "\xef\xbb\xbf\r\n\n%PDF-1.4\n%%EOF", fulltext.KindPDF},
		{"jats", `<?xml version="1.0"?><!DOCTYPE article PUBLIC "-//NLM//DTD JATS"><article><front/></article>`, fulltext.KindXML},
		{"html labelled pdf is not a file", "<html><body>%PDF-1.4 is a format</body></html>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Content-Type": {"application/pdf"}}
			r := Extract("https://pub.example/x", 200, h, []byte(tt.body), Hint{})
			checkInvariants(t, r)
			if tt.kind == "" {
				if len(r.Links) > 0 && r.Links[0].Technique == techResponse {
					t.Fatalf("HTML taken as the file: %+v", r.Links)
				}
				return
			}
			if r.Verdict != VerdictArticle || len(r.Links) != 1 || r.Links[0].URL != "https://pub.example/x" ||
				r.Links[0].Kind != tt.kind || r.Links[0].Technique != techResponse {
				t.Fatalf("got %+v, want the page itself as %s", r, tt.kind)
			}
		})
	}
}

func TestExtractJSONLDLenient(t *testing.T) {
	t.Parallel()
	body := `<script type="application/ld+json">
	{"@context":"https://schema.org","@type":["Thesis"],"name":"T &amp; U",
	 "identifier":"doi:10.5555/T.7",
	 "associatedMedia":[{"contentUrl":"https://repo.example/t.pdf","encodingFormat":"application/pdf",},],
	}</script>`
	r := Extract("https://repo.example/item/7", 200, nil, []byte(body), Hint{})
	if got := urls(r.Links); len(got) != 1 || got[0] != "https://repo.example/t.pdf" || r.Links[0].Technique != techJSONLD {
		t.Fatalf("links = %+v, want the JSON-LD file", r.Links)
	}
	if r.Identity.DOI != "10.5555/t.7" || r.Identity.Title != "T & U" {
		t.Errorf("identity = %+v", r.Identity)
	}
}

func TestExtractRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"meta refresh", `<meta http-equiv="Refresh" content="5;url=/next">`, "https://pub.example/next"},
		{"meta refresh without url", `<meta http-equiv="refresh" content="30">`, ""},
		{"refresh to itself", `<meta http-equiv="refresh" content="0; url=https://pub.example/a/page">`, ""},
		{"js location.href", `<script>location.href = '/b';</script>`, "https://pub.example/b"},
		{"js assign", `<script>window.location.assign("https://other.example/c")</script>`, "https://other.example/c"},
		{"interstitial redirectURL", `<input type="hidden" name="redirectURL" value="https%3A%2F%2Ft.example%2Fd">`, "https://t.example/d"},
		{"javascript: target dropped", `<script>location.href = "javascript:void(0)";</script>`, ""},
		{"slow meta refresh is a time-out", `<meta http-equiv="refresh" content="1800; url=/logout">`, ""},
		{"meta refresh on an article", `<meta name="citation_title" content="A"><meta http-equiv="refresh" content="0;url=/full">`, "https://pub.example/full"},
		{"button handler on an article", `<meta name="citation_title" content="A"><script>function go(){ location.href = "/login"; }</script>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Extract("https://pub.example/a/page", 200, nil, []byte(tt.body), Hint{})
			if r.Refresh != tt.want {
				t.Errorf("Refresh = %q, want %q", r.Refresh, tt.want)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	r := Extract("https://pub.example/a", 200, nil, []byte(`<meta name="citation_pdf_url" content="/a.pdf">`), Hint{})
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["verdict"] != "article" {
		t.Errorf("verdict field = %v", m["verdict"])
	}
	links, ok := m["links"].([]any)
	if !ok || len(links) != 1 {
		t.Fatalf("links field = %v", m["links"])
	}
	l := links[0].(map[string]any)
	for _, k := range []string{"url", "kind", "technique", "score"} {
		if _, ok := l[k]; !ok {
			t.Errorf("link lacks %q: %s", k, raw)
		}
	}
	empty, _ := json.Marshal(Extract("", 404, nil, nil, Hint{}))
	if !strings.Contains(string(empty), `"links":[]`) {
		t.Errorf("empty result marshals links as %s, want []", empty)
	}
}

func TestParseLinkHeader(t *testing.T) {
	t.Parallel()
	got := parseLinkHeader(`<https://a.example/x.pdf>; rel="item cite-as"; type="application/pdf", <https://b.example/m>;rel=describedby;type="application/ld+json;q=1,2", <broken`)
	if len(got) != 2 {
		t.Fatalf("parsed %d links, want 2: %+v", len(got), got)
	}
	if got[0].href != "https://a.example/x.pdf" || !hasToken(got[0].rel, "item") || got[0].typ != "application/pdf" {
		t.Errorf("first = %+v", got[0])
	}
	if got[1].rel != "describedby" || got[1].typ != "application/ld+json;q=1,2" {
		t.Errorf("second = %+v", got[1])
	}
}

func TestExtractRedirectAnswer(t *testing.T) {
	t.Parallel()
	h := http.Header{"Location": {"/consent?redirect=%2Fdoi%2F10.5555%2Fx"}}
	r := Extract("https://pub.example/doi/10.5555/x", 302, h, nil, Hint{})
	if r.Refresh != "https://pub.example/consent?redirect=%2Fdoi%2F10.5555%2Fx" {
		t.Errorf("Refresh = %q, want the resolved Location", r.Refresh)
	}
}

func TestTechniquesCoverFoundLinks(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, tech := range Techniques() {
		if known[tech] {
			t.Errorf("technique %q listed twice", tech)
		}
		known[tech] = true
	}
	cases, pages := loadCorpus(t)
	_ = pages
	for name, tc := range cases {
		if tc.Expect.Technique != "" && !known[tc.Expect.Technique] {
			t.Errorf("%s: technique %q missing from Techniques()", name, tc.Expect.Technique)
		}
	}
	for _, l := range BuildURLs("https://www.mdpi.com/2072-4292/15/4/1234", Hint{ArXiv: "1905.99123", PMCID: "PMC1", DOI: "10.1371/journal.pone.0000001"}) {
		if !known[l.Technique] {
			t.Errorf("BuildURLs technique %q missing from Techniques()", l.Technique)
		}
	}
}

func TestExtractCharset(t *testing.T) {
	t.Parallel()
	// "Café" in ISO-8859-1, declared in the header and in a meta tag.
	body := []byte("<html><head><meta charset=\"iso-8859-1\"><meta name=\"citation_title\" content=\"Caf\xe9\"></head></html>")
	for _, h := range []http.Header{{"Content-Type": {"text/html; charset=ISO-8859-1"}}, nil} {
		r := Extract("https://pub.example/a", 200, h, body, Hint{})
		if r.Identity.Title != "Café" {
			t.Errorf("header %v: title = %q, want Café", h, r.Identity.Title)
		}
	}
}

func TestResultCandidates(t *testing.T) {
	t.Parallel()
	r := Result{Verdict: VerdictArticle, Links: []Link{
		{URL: "https://a.example/x.pdf", Kind: fulltext.KindPDF, Technique: techCitationPDF, Score: 0.94},
		{URL: "https://a.example/full", Kind: fulltext.KindHTML, Technique: techCitationHTML, Score: 0.4},
	}}
	got := r.Candidates("landing", "https://a.example/page")
	if len(got) != 2 || got[0].Referer != "https://a.example/page" || got[0].Source != "landing" ||
		got[0].Technique != techCitationPDF || got[0].Landing || got[1].Landing || got[1].Kind != fulltext.KindHTML {
		t.Fatalf("Candidates = %+v", got)
	}
}
