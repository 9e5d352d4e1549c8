package landing

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkInvariants holds for every Result: a known verdict, links absolute
// http(s) without fragment, unique, scored in (0, 1], best first, with a
// kind and a technique; walls other than paywalls carry no links.
func checkInvariants(t *testing.T, r Result) {
	t.Helper()
	if !r.Verdict.Valid() {
		t.Fatalf("invalid verdict %q", r.Verdict)
	}
	if r.Links == nil {
		t.Fatalf("Links is nil, want a (possibly empty) slice")
	}
	if r.Verdict.Blocked() && r.Verdict != VerdictPaywall || r.Verdict == VerdictError {
		if len(r.Links) > 0 {
			t.Fatalf("verdict %s with links %+v", r.Verdict, r.Links)
		}
	}
	seen := map[string]bool{}
	for i, l := range r.Links {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			t.Fatalf("link %q is not an absolute http(s) URL without fragment", l.URL)
		}
		if seen[l.URL] {
			t.Fatalf("duplicate link %q", l.URL)
		}
		seen[l.URL] = true
		if l.Score <= 0 || l.Score > 1 {
			t.Fatalf("link %q score %v out of (0,1]", l.URL, l.Score)
		}
		if i > 0 && l.Score > r.Links[i-1].Score {
			t.Fatalf("links not best first: %+v", r.Links)
		}
		if l.Kind == "" || l.Technique == "" {
			t.Fatalf("link %+v lacks kind or technique", l)
		}
	}
	if r.Refresh != "" {
		u, err := url.Parse(r.Refresh)
		if err != nil || !u.IsAbs() || u.Host == "" {
			t.Fatalf("refresh %q not absolute", r.Refresh)
		}
	}
}

func seedCorpus(f *testing.F, add func(body []byte)) {
	f.Helper()
	pages, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.html"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range pages {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(body)
	}
	add(nil)
	add([]byte("%PDF-1.7\n%%EOF"))
	add([]byte(`<a href="javascript:alert(1)">PDF</a><a href="#top">PDF</a><a href="//x">pdf</a><base href="::">`))
}

func FuzzExtract(f *testing.F) {
	seedCorpus(f, func(body []byte) {
		f.Add("https://journals.example.org/doi/10.5555/x.1", 200, body, "10.5555/x.1")
	})
	f.Add("not a url", 404, []byte(`<meta name=citation_pdf_url content="/a.pdf">`), "")
	f.Fuzz(func(t *testing.T, pageURL string, status int, body []byte, doi string) {
		h := http.Header{}
		h.Set("Link", `<`+strings.ToValidUTF8(pageURL, "")+`.pdf>; rel="item"; type="application/pdf"`)
		r := Extract(pageURL, status, h, body, Hint{DOI: doi})
		checkInvariants(t, r)
		_ = BuildURLs(pageURL, Hint{DOI: doi, ArXiv: doi, PMCID: doi})
	})
}

func FuzzClassify(f *testing.F) {
	seedCorpus(f, func(body []byte) {
		f.Add(200, "", body)
	})
	f.Add(403, "challenge", []byte("<title>Just a moment...</title>"))
	f.Fuzz(func(t *testing.T, status int, cfMitigated string, body []byte) {
		h := http.Header{}
		h.Set("Cf-Mitigated", cfMitigated)
		v := Classify(status, h, body)
		if !v.Valid() {
			t.Fatalf("invalid verdict %q", v)
		}
		if v.Code() == "" || !v.Code().Known() {
			t.Fatalf("verdict %q maps to unknown code %q", v, v.Code())
		}
		if strings.EqualFold(cfMitigated, "challenge") && v != VerdictChallenge {
			t.Fatalf("cf-mitigated: challenge classified %q", v)
		}
	})
}

func BenchmarkExtract(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "corpus", "highwire_generic.html"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Extract("https://journals.example.org/jsim/article/10.5555/jsim.2021.0042", 200, nil, body, Hint{DOI: "10.5555/jsim.2021.0042"})
	}
}

// TestCorpusTruncated runs every corpus page cut at several points: broken
// markup must still give a valid Result.
func TestCorpusTruncated(t *testing.T) {
	t.Parallel()
	pages, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 8; i++ {
			cut := body[:len(body)*i/8]
			r := Extract("https://pub.example/doi/10.5555/x.1", 200, nil, cut, Hint{DOI: "10.5555/x.1"})
			checkInvariants(t, r)
			if v := Classify(200, nil, cut); !v.Valid() {
				t.Fatalf("%s cut at %d: verdict %q", p, len(cut), v)
			}
		}
	}
}
