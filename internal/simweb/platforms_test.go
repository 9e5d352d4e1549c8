package simweb

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/landing"
)

// firstOn is the first doi-landing work on platform p.
func firstOn(t *testing.T, w *World, p Platform) Work {
	t.Helper()
	for _, wk := range w.Works {
		if wk.Platform() == p {
			return wk
		}
	}
	t.Fatalf("no doi-landing work on platform %s", p)
	return Work{}
}

func TestPlatformsRotate(t *testing.T) {
	t.Parallel()
	w := NewWorld(Config{Works: 3 + len(generatedRoutes)*len(platforms), Seed: 7})
	seen := map[Platform]int{}
	for _, wk := range w.Works {
		if p := wk.Platform(); p != "" {
			seen[p]++
		} else if wk.Route == RouteLanding {
			t.Errorf("work %d: doi-landing without platform", wk.n)
		}
	}
	for _, p := range platforms {
		if seen[p] != 1 {
			t.Errorf("platform %s: %d works, want 1", p, seen[p])
		}
	}
}

// The highwire-cookie PDF answers only with the landing page's cookie.
func TestPlatformCookieGate(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 3 + len(generatedRoutes)*len(platforms)})
	wk := firstOn(t, s.World(), PlatformCookie)

	r := get(t, c, wk.LandingPDFURL())
	if r.status != http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("PDF without cookie: %d %s, want 403 HTML", r.status, r.header.Get("Content-Type"))
	}
	r = get(t, c, wk.LandingPDFURL(), "Cookie", sessionCookie+"=wrong")
	if r.status != http.StatusForbidden {
		t.Fatalf("PDF with a wrong cookie: %d, want 403", r.status)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	page := get(t, c, wk.resolveURL())
	if page.status != http.StatusOK || !strings.Contains(page.header.Get("Set-Cookie"), sessionCookie+"=") {
		t.Fatalf("landing: %d, Set-Cookie %q", page.status, page.header.Get("Set-Cookie"))
	}
	r = get(t, c, wk.LandingPDFURL())
	checkPDF(t, r)
	if string(r.body) != string(wk.PDF()) {
		t.Error("not the work's PDF")
	}
	// The plain Highwire PDF needs no cookie.
	other := firstOn(t, s.World(), PlatformHighwire)
	if r := get(t, c, other.LandingPDFURL()); r.status != http.StatusOK {
		t.Errorf("highwire PDF: %d", r.status)
	}
}

// Every platform's landing page leads, through the real extractor and by
// the platform's own technique, to the work's PDF; the platform PDF paths
// answer only for their work on its host.
func TestPlatformPages(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 3 + len(generatedRoutes)*len(platforms)})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	technique := map[Platform]string{
		PlatformHighwire: "citation_pdf_url", PlatformCookie: "citation_pdf_url", PlatformOJS: "ojs-galley",
		PlatformDSpace: "dspace", PlatformAtypon: "atypon", PlatformJSONLD: "jsonld",
		PlatformSignposting: "signposting-header", PlatformSpringer: "citation_pdf_url",
	}
	for _, p := range platforms {
		wk := firstOn(t, s.World(), p)
		page := get(t, c, wk.resolveURL())
		res := landing.Extract(wk.resolveURL(), page.status, page.header, page.body, landing.Hint{DOI: wk.IDs.DOI})
		if page.status != http.StatusOK || res.Verdict != landing.VerdictArticle || len(res.Links) == 0 {
			t.Errorf("%s: %d, verdict %s, %d links", p, page.status, res.Verdict, len(res.Links))
			continue
		}
		if l := res.Links[0]; l.URL != wk.LandingPDFURL() || l.Technique != technique[p] || l.Kind != fulltext.KindPDF {
			t.Errorf("%s: first link %+v, want %s by %s", p, l, wk.LandingPDFURL(), technique[p])
		}
		r := get(t, c, wk.LandingPDFURL())
		checkPDF(t, r)
		if string(r.body) != string(wk.PDF()) {
			t.Errorf("%s: not the work's PDF", p)
		}
		// The same path on another publisher host, or for another work, is 404.
		u, err := url.Parse(wk.LandingPDFURL())
		if err != nil {
			t.Fatal(err)
		}
		u.Host = map[bool]string{true: "pubs.example.com", false: "journals.example.org"}[u.Host == "journals.example.org"]
		if r := get(t, c, u.String()); r.status != http.StatusNotFound {
			t.Errorf("%s: %s answered %d, want 404", p, u, r.status)
		}
	}
	other := firstOn(t, s.World(), PlatformHighwire)
	if r := get(t, c, "https://"+other.publisherHost()+"/doi/pdf/"+other.IDs.DOI); r.status != http.StatusNotFound {
		t.Errorf("atypon path of a highwire work: %d, want 404", r.status)
	}
}
