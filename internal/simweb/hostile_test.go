package simweb

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestHostileWorldOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, wk := range NewWorld(Config{Works: 300}).Works {
		if isHostile(wk.Route) {
			t.Fatalf("work %d is hostile in a plain world", wk.n)
		}
	}
	seen := map[Route]bool{}
	for _, wk := range NewWorld(Config{Works: 3 + len(generatedRoutes) + len(hostileRoutes), Hostile: true}).Works {
		seen[wk.Route] = true
		if isHostile(wk.Route) && (!wk.Want.Known() || wk.Input != wk.IDs.OpenAlex) {
			t.Errorf("hostile work %d: %+v", wk.n, wk)
		}
	}
	for _, r := range HostileRoutes() {
		if !seen[r] {
			t.Errorf("route %s missing", r)
		}
	}
}

func TestHostileRoutes(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 3 + len(generatedRoutes) + len(hostileRoutes), Hostile: true})
	lead := func(r Route) (Work, string) {
		wk := firstOf(t, s.World(), r)
		var rec oaWork
		mustJSON(t, get(t, c, "https://api.openalex.org/works/"+wk.IDs.OpenAlex).body, &rec)
		if rec.BestOALocation == nil {
			t.Fatalf("%s: no best_oa_location", r)
		}
		if rec.BestOALocation.PDFURL != nil {
			return wk, *rec.BestOALocation.PDFURL
		}
		return wk, *rec.BestOALocation.LandingPageURL
	}
	// follow walks redirects by hand and returns the URLs visited.
	follow := func(u string, limit int) ([]string, resp) {
		var hops []string
		for range limit {
			hops = append(hops, u)
			r := get(t, c, u)
			if r.status < 300 || r.status > 399 {
				return hops, r
			}
			next, err := url.Parse(r.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			base, _ := url.Parse(u)
			u = base.ResolveReference(next).String()
		}
		return hops, resp{}
	}

	var wk Work
	_, u := lead(RouteRedirectChain)
	hops, r := follow(u, 20)
	if len(hops) != 12 {
		t.Errorf("chain: %d requests, want 12 (11 redirects)", len(hops))
	}
	checkPDF(t, r)

	_, u = lead(RouteRedirectLoop)
	hops, _ = follow(u, 6)
	if len(hops) != 6 || hops[1] != hops[3] {
		t.Errorf("loop: %v", hops)
	}

	_, u = lead(RoutePrivateRedirect)
	if r := get(t, c, u); r.status != 302 || !slices.Contains(privateTargets, r.header.Get("Location")) {
		t.Errorf("private redirect: %d %q", r.status, r.header.Get("Location"))
	}
	_, u = lead(RoutePrivateLink)
	if r := get(t, c, u); !strings.Contains(string(r.body), `citation_pdf_url" content="http://`) {
		t.Errorf("private link page: %s", r.body)
	}

	_, u = lead(RouteGzipBomb)
	r = get(t, c, u, "Accept-Encoding", "gzip") // an explicit header: the transport leaves the body compressed
	if r.header.Get("Content-Encoding") != "gzip" || len(r.body) > 1<<20 {
		t.Fatalf("bomb: %q, %d bytes on the wire", r.header.Get("Content-Encoding"), len(r.body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(zr, head); err != nil || string(head) != "%PDF-1.4" {
		t.Errorf("bomb head %q %v", head, err)
	}
	if n, err := io.Copy(io.Discard, io.LimitReader(zr, 8<<20)); err != nil || n != 8<<20 {
		t.Errorf("bomb inflated only %d bytes (%v)", n, err)
	}
	if bombMembers<<20 <= 256<<20 {
		t.Error("bomb smaller than the default body cap")
	}

	wk, u = lead(RouteLengthLie)
	_, b, err := do(t, c, t.Context(), u)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(b, wk.PDF()) {
		t.Errorf("length lie: %d bytes, %v", len(b), err)
	}

	wk, u = lead(RouteDrip)
	if r := get(t, c, u); !bytes.Equal(r.body, wk.PDF()) {
		t.Errorf("drip: %d bytes", len(r.body))
	}

	_, u = lead(RouteBadFilename)
	r = get(t, c, u)
	checkPDF(t, r)
	if r.header.Get("Content-Disposition") != `attachment; filename="../../x"` {
		t.Errorf("filename: %q", r.header.Get("Content-Disposition"))
	}

	_, u = lead(RouteJSAsPDF)
	if r := get(t, c, u); r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "/*") {
		t.Errorf("js: %q %.20s", r.header.Get("Content-Type"), r.body)
	}

	_, u = lead(RouteRobots)
	if !strings.HasPrefix(u, "https://"+robotsHost+"/h/") {
		t.Errorf("robots lead %q", u)
	}
	if r := get(t, c, "https://"+robotsHost+"/robots.txt"); !strings.Contains(string(r.body), "Disallow: /h/") {
		t.Errorf("robots.txt: %s", r.body)
	}
	if r := get(t, c, "https://"+hostileHost+"/robots.txt"); !strings.Contains(string(r.body), "Allow: /") {
		t.Errorf("maze robots.txt: %s", r.body)
	}

	wk, u = lead(RouteOtherWork)
	r = get(t, c, u)
	checkPDF(t, r)
	if bytes.Contains(r.body, []byte(pdfString(wk.Title))) || bytes.Equal(r.body, wk.PDF()) {
		t.Error("other work: the PDF is the work's own")
	}
}
