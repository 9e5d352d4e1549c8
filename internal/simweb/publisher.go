package simweb

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// publisher serves the publisher and repository hosts under example.org,
// example.com and example.edu: landing pages, PDFs and walls.
func (s *Server) publisher(w http.ResponseWriter, r *http.Request, host string) {
	p := r.URL.Path
	switch {
	case host == "repository.example.edu":
		s.repository(w, r)
	case host == "eprints.example.edu":
		s.eprints(w, r)
	case strings.HasPrefix(p, "/article/"):
		key := strings.TrimPrefix(p, "/article/")
		isPDF := strings.HasSuffix(key, "/pdf")
		key = strings.TrimSuffix(key, "/pdf")
		wk, ok := s.world.Lookup(key)
		if !ok || wk.Route == RouteCast || wk.publisherHost() != host {
			publisherNotFound(w)
			return
		}
		if isPDF {
			s.publisherPDF(w, r, wk)
		} else {
			s.landing(w, r, wk)
		}
	case p == "/action/showLogin":
		writeText(w, http.StatusOK, "text/html; charset=utf-8", loginPage(host, r.URL.Query().Get("redirectUri")))
	case p == "/consent":
		writeText(w, http.StatusOK, "text/html; charset=utf-8", consentPage(r.URL.Query().Get("redirect")))
	case s.platformPDF(w, r, host):
	default:
		publisherNotFound(w)
	}
}

func publisherNotFound(w http.ResponseWriter) {
	writeText(w, http.StatusNotFound, "text/html; charset=utf-8",
		"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>404 - Page not found</h1><p>The page you requested does not exist.</p></body></html>\n")
}

func (s *Server) landing(w http.ResponseWriter, r *http.Request, wk Work) {
	back := url.QueryEscape("/article/" + wk.key())
	switch wk.Route {
	case RouteLanding:
		s.landingPage(w, wk)
	case RouteUnpaywall:
		writeText(w, http.StatusOK, "text/html; charset=utf-8", articlePage(wk, true))
	case RouteWrongType:
		publisherNotFound(w)
	case RouteChallenge:
		challenge(w, r, wk.publisherHost())
	case RouteLogin:
		http.Redirect(w, r, "/action/showLogin?redirectUri="+back, http.StatusFound)
	case RouteCookie:
		w.Header().Set("Set-Cookie", "cmp_session=sim; Path=/; Secure")
		http.Redirect(w, r, "/consent?redirect="+back, http.StatusFound)
	default: // an abstract page without a full-text link
		writeText(w, http.StatusOK, "text/html; charset=utf-8", articlePage(wk, false))
	}
}

func (s *Server) publisherPDF(w http.ResponseWriter, r *http.Request, wk Work) {
	switch wk.Route {
	case RouteUnpaywall, RouteLanding, RouteCrossref, RouteDOAJ:
		if cookieMissing(w, r, wk) {
			return
		}
		servePDF(w, r, fmt.Sprintf("sim-%d.pdf", wk.n), wk.PDF())
	case RouteWrongType:
		// The trap: an HTML viewer page labelled as a PDF.
		w.Header().Set("Content-Type", "application/pdf")
		page := fmt.Sprintf(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s | PDF viewer</title></head>
<body><div id="viewer" data-doc="%s"><p>Loading the PDF viewer&hellip;</p></div>
<script src="/static/viewer.js"></script></body></html>
`, html.EscapeString(wk.Title), html.EscapeString(wk.key()))
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(page))
		}
	case RouteChallenge:
		challenge(w, r, wk.publisherHost())
	default:
		http.Redirect(w, r, "/action/showLogin?redirectUri="+url.QueryEscape(r.URL.Path), http.StatusFound)
	}
}

// challenge answers a Cloudflare managed challenge (apis.md §10.3).
func challenge(w http.ResponseWriter, r *http.Request, host string) {
	h := w.Header()
	h.Set("Server", "cloudflare")
	h.Set("Cf-Ray", "8f3c2a1b0d9e8f70-FRA")
	h.Set("Cf-Mitigated", "challenge")
	h.Set("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0")
	page := strings.ReplaceAll(string(sample("cloudflare_challenge.html")), "www.example-history-journals.com", host)
	page = strings.ReplaceAll(page, `\/doi\/10.5555\/hist.1998.003`, strings.ReplaceAll(r.URL.Path, "/", `\/`))
	writeText(w, http.StatusForbidden, "text/html; charset=UTF-8", page)
}

// articlePage is a publisher landing page with Highwire, Dublin Core and
// OpenGraph tags. withPDF adds citation_pdf_url and a download link; a
// page without it on a store host is a paywall (purchase options).
func articlePage(wk Work, withPDF bool) string {
	t := html.EscapeString(wk.Title)
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%[1]s | Simulated Journal</title>
<meta name="citation_title" content="%[1]s">
<meta name="citation_author" content="Author%[2]d, Sim">
<meta name="citation_publication_date" content="%[3]s">
<meta name="citation_journal_title" content="Simulated Journal %[4]d">
<meta name="citation_doi" content="%[5]s">
`, t, wk.n, strings.ReplaceAll(wk.publicationDate(), "-", "/"), 200+wk.n%7, html.EscapeString(wk.IDs.DOI))
	if withPDF {
		fmt.Fprintf(&b, "<meta name=\"citation_pdf_url\" content=\"%s\">\n<meta name=\"citation_fulltext_world_readable\" content=\"\">\n", wk.publisherPDFURL())
	}
	fmt.Fprintf(&b, `<meta name="DC.identifier" content="info:doi/%[2]s">
<meta property="og:type" content="article">
<meta property="og:url" content="%[3]s">
<link rel="canonical" href="%[3]s">
</head>
<body>
<main>
<article>
<h1 class="article-title">%[1]s</h1>
<p class="doi">DOI: <a href="https://doi.org/%[2]s">%[2]s</a></p>
<section class="abstract"><h2>Abstract</h2><p>We study %[4]s with simulated data.</p></section>
`, t, html.EscapeString(wk.IDs.DOI), wk.landingURL(), strings.ToLower(t))
	switch {
	case withPDF:
		fmt.Fprintf(&b, "<div class=\"article-tools\"><a class=\"btn btn-pdf\" href=\"/article/%s/pdf\">Download PDF</a></div>\n", html.EscapeString(wk.key()))
	case wk.Route == RoutePaywall:
		fmt.Fprintf(&b, `<section class="access-options">
<h2>Purchase this article</h2>
<p>You do not currently have access to this article. Subscribe to the journal or buy this article.</p>
<p class="price">24 hours access USD 39.00</p>
<a class="btn" href="/action/ecommerce?doi=%[1]s">Buy PDF</a>
<a class="btn" href="/action/rent?doi=%[1]s">Rent this article</a>
<a class="btn" href="/action/subscribe">Subscribe</a>
</section>
`, url.QueryEscape(wk.IDs.DOI))
	}
	b.WriteString("</article>\n</main>\n</body>\n</html>\n")
	return b.String()
}

func loginPage(host, redirect string) string {
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in | %[1]s</title><meta name="robots" content="noindex"></head>
<body>
<main class="login">
<h1>Log in to your account</h1>
<p>Please sign in to access this content.</p>
<form method="post" action="/action/doLogin">
<input type="hidden" name="redirectUri" value="%[2]s">
<label>Email <input type="email" name="login"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Log in</button>
</form>
<p><a href="/action/ssostart">Access through your institution</a> &middot; <a href="https://idp.example-federation.org/WAYF">Log in via Shibboleth or OpenAthens</a></p>
</main>
</body>
</html>
`, html.EscapeString(host), html.EscapeString(redirect))
}

func consentPage(redirect string) string {
	page := string(sample("cookie_wall.html"))
	return strings.ReplaceAll(page, "%2Fdoi%2F10.5555%2Ftcs.2019.117", html.EscapeString(url.QueryEscape(redirect)))
}

// repository serves repository.example.edu for generated works: the item
// page /handle/sim/{n} and the file /bitstream/handle/sim/{n}/article.pdf.
func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var n int
	var wk Work
	found := false
	if _, err := fmt.Sscanf(p, "/bitstream/handle/sim/%d/article.pdf", &n); err == nil && p == fmt.Sprintf("/bitstream/handle/sim/%d/article.pdf", n) {
		if n >= 0 && n < len(s.world.Works) && s.world.Works[n].Route == RouteOpenAlex {
			wk = s.world.Works[n]
			servePDF(w, r, "article.pdf", wk.PDF())
			return
		}
	} else if _, err := fmt.Sscanf(p, "/handle/sim/%d", &n); err == nil && p == fmt.Sprintf("/handle/sim/%d", n) {
		if n >= 0 && n < len(s.world.Works) && s.world.Works[n].Route == RouteOpenAlex {
			wk, found = s.world.Works[n], true
		}
	}
	if !found {
		publisherNotFound(w)
		return
	}
	page := fmt.Sprintf(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%[1]s | Example University Repository</title>
<meta name="citation_title" content="%[1]s">
<meta name="citation_doi" content="%[2]s">
<meta name="citation_pdf_url" content="%[3]s">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "ScholarlyArticle", "name": "%[1]s",
 "identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": "%[2]s"}, "isAccessibleForFree": true,
 "encoding": {"@type": "MediaObject", "encodingFormat": "application/pdf", "contentUrl": "%[3]s"}}</script>
</head><body><h1>%[1]s</h1><a href="%[3]s">article.pdf</a></body></html>
`, html.EscapeString(wk.Title), wk.IDs.DOI, wk.repositoryPDFURL())
	writeText(w, http.StatusOK, "text/html; charset=utf-8", page)
}

// eprints serves the Semantic Scholar route's files,
// /{5000+n}/1/sim-{n}.pdf.
func (s *Server) eprints(w http.ResponseWriter, r *http.Request) {
	var id, n int
	if _, err := fmt.Sscanf(r.URL.Path, "/%d/1/sim-%d.pdf", &id, &n); err == nil && n >= 0 && n < len(s.world.Works) {
		if wk := s.world.Works[n]; wk.Route == RouteS2 && r.URL.Path == strings.TrimPrefix(wk.eprintsPDFURL(), "https://eprints.example.edu") {
			servePDF(w, r, fmt.Sprintf("sim-%d.pdf", n), wk.PDF())
			return
		}
	}
	publisherNotFound(w)
}
