package simweb

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Platform is the publishing platform whose markup a doi-landing work's
// landing page imitates (modelled on internal/landing/testdata/corpus).
// The doi-landing works rotate over Platforms in world order; every
// platform leads to the work's PDF on the publisher host.
type Platform string

// The landing-page platforms.
const (
	// PlatformHighwire: Highwire citation_pdf_url and a "Download PDF"
	// button; the PDF is at /article/{doi}/pdf.
	PlatformHighwire Platform = "highwire"
	// PlatformCookie: the Highwire page sets a session cookie
	// (sim_session); the PDF answers 403 HTML unless that cookie is sent.
	PlatformCookie Platform = "highwire-cookie"
	// PlatformOJS: an Open Journal Systems 3 article page whose only lead
	// is the PDF galley link /index.php/sim/article/view/{n}/{g}; the file
	// is at .../article/download/{n}/{g}.
	PlatformOJS Platform = "ojs"
	// PlatformDSpace: a DSpace 6 item page listing the bitstream
	// /bitstream/handle/123456789/{n}/sim-{n}.pdf.
	PlatformDSpace Platform = "dspace"
	// PlatformAtypon: an Atypon (Literatum) page with /doi/pdf/{doi} next
	// to an /doi/epdf/ reader link that is not the file.
	PlatformAtypon Platform = "atypon"
	// PlatformJSONLD: a script-rendered page whose only lead is the
	// schema.org JSON-LD encoding.contentUrl /files/sim-{n}.pdf.
	PlatformJSONLD Platform = "jsonld"
	// PlatformSignposting: an application shell whose only lead is the
	// FAIR Signposting Link header (rel="item" type="application/pdf").
	PlatformSignposting Platform = "signposting"
	// PlatformSpringer: a Springer Link page, citation_pdf_url and the
	// download button pointing at /content/pdf/{doi}.pdf.
	PlatformSpringer Platform = "springer"
)

var platforms = []Platform{
	PlatformHighwire, PlatformCookie, PlatformOJS, PlatformDSpace,
	PlatformAtypon, PlatformJSONLD, PlatformSignposting, PlatformSpringer,
}

// Platforms returns the landing-page platforms doi-landing works rotate
// over.
func Platforms() []Platform { return append([]Platform(nil), platforms...) }

// Platform is the landing-page platform of a doi-landing work ("" for the
// other routes).
func (wk Work) Platform() Platform {
	if wk.Route != RouteLanding {
		return ""
	}
	return platforms[wk.platform%len(platforms)]
}

// sessionCookie is the cookie the highwire-cookie landing page sets.
const sessionCookie = "sim_session"

func (wk Work) sessionValue() string { return "s" + strconv.Itoa(wk.n) }

// LandingPDFURL is the URL the landing page of a doi-landing work leads
// to (the PDF), per platform.
func (wk Work) LandingPDFURL() string {
	base := "https://" + wk.publisherHost()
	switch wk.Platform() {
	case PlatformOJS:
		return fmt.Sprintf("%s/index.php/sim/article/download/%d/%d", base, wk.n, ojsGalley(wk))
	case PlatformDSpace:
		return fmt.Sprintf("%s/bitstream/handle/123456789/%d/sim-%d.pdf", base, wk.n, wk.n)
	case PlatformAtypon:
		return base + "/doi/pdf/" + wk.IDs.DOI
	case PlatformJSONLD:
		return fmt.Sprintf("%s/files/sim-%d.pdf", base, wk.n)
	case PlatformSignposting:
		return fmt.Sprintf("%s/download/sim-%d/article.pdf", base, wk.n)
	case PlatformSpringer:
		return base + "/content/pdf/" + wk.IDs.DOI + ".pdf"
	}
	return wk.publisherPDFURL()
}

// ojsGalley is the id of the PDF galley of an OJS work.
func ojsGalley(wk Work) int { return 7000 + wk.n }

// platformPDFRe matches the PDF paths of the platforms that do not serve
// the PDF at /article/{doi}/pdf; the first non-empty group is the work
// index.
var platformPDFRe = regexp.MustCompile(`^/(?:index\.php/sim/article/download/(\d+)/\d+|bitstream/handle/123456789/(\d+)/sim-\d+\.pdf|doi/pdf/10\.5555/sim\.(\d+)|content/pdf/10\.5555/sim\.(\d+)\.pdf|files/sim-(\d+)\.pdf|download/sim-(\d+)/article\.pdf)$`)

// platformPDF serves a platform PDF path on a publisher host; it reports
// false when the path is not one.
func (s *Server) platformPDF(w http.ResponseWriter, r *http.Request, host string) bool {
	m := platformPDFRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	n := -1
	for _, g := range m[1:] {
		if g != "" {
			n, _ = strconv.Atoi(g)
			break
		}
	}
	if n < 0 || n >= len(s.world.Works) {
		return false
	}
	wk := s.world.Works[n]
	if wk.Route != RouteLanding || wk.publisherHost() != host || wk.LandingPDFURL() != "https://"+host+r.URL.RequestURI() {
		return false
	}
	servePDF(w, r, fmt.Sprintf("sim-%d.pdf", wk.n), wk.PDF())
	return true
}

// landingPage serves the landing page of a doi-landing work in its
// platform's markup.
func (s *Server) landingPage(w http.ResponseWriter, wk Work) {
	page := ""
	switch wk.Platform() {
	case PlatformCookie:
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: wk.sessionValue(), Path: "/", Secure: true, HttpOnly: true})
		page = articlePage(wk, true)
	case PlatformOJS:
		page = ojsPage(wk)
	case PlatformDSpace:
		page = dspacePage(wk)
	case PlatformAtypon:
		page = atyponPage(wk)
	case PlatformJSONLD:
		page = jsonldPage(wk)
	case PlatformSignposting:
		w.Header().Set("Link", fmt.Sprintf(`<https://doi.org/%s>; rel="cite-as", <%s>; rel="item"; type="application/pdf", <https://creativecommons.org/licenses/by/4.0/>; rel="license"`,
			wk.IDs.DOI, wk.LandingPDFURL()))
		page = signpostingPage(wk)
	case PlatformSpringer:
		page = springerPage(wk)
	default:
		page = articlePage(wk, true)
	}
	writeText(w, http.StatusOK, "text/html; charset=utf-8", page)
}

// The platform pages below are modelled on the corpus pages of
// internal/landing/testdata/corpus (ojs3, dspace6_jsonld, atypon_tandf,
// signposting_only, springer), reduced to what identifies the platform.

func ojsPage(wk Work) string {
	t, doi := html.EscapeString(wk.Title), html.EscapeString(wk.IDs.DOI)
	base := "https://" + wk.publisherHost() + "/index.php/sim"
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en-US" xml:lang="en-US">
<head>
	<meta charset="utf-8">
	<title>%[1]s | Simulated Journal of Open Studies</title>
<meta name="generator" content="Open Journal Systems 3.3.0.14">
<link rel="schema.DC" href="http://purl.org/dc/elements/1.1/" />
<meta name="DC.Creator.PersonalName" content="Sim Author%[4]d"/>
<meta name="DC.Identifier" content="%[4]d"/>
<meta name="DC.Identifier.DOI" content="%[2]s"/>
<meta name="DC.Identifier.URI" content="%[3]s/article/view/%[4]d"/>
<meta name="DC.Title" content="%[1]s"/>
<meta name="DC.Type" content="Text.Serial.Journal"/>
</head>
<body class="pkp_page_article pkp_op_view" dir="ltr">
<div class="pkp_structure_page">
<header class="pkp_structure_head"><nav class="pkp_site_nav_menu"><ul id="navigationUser"><li><a href="%[3]s/login">Login</a></li></ul></nav></header>
<div class="pkp_structure_content has_sidebar"><div class="pkp_structure_main" role="main">
<div class="page page_article">
	<article class="obj_article_details">
		<h1 class="page_title">%[1]s</h1>
		<div class="row">
			<div class="main_entry">
				<section class="item doi"><h2 class="label">DOI:</h2><span class="value"><a href="https://doi.org/%[2]s">https://doi.org/%[2]s</a></span></section>
				<section class="item abstract"><h2 class="label">Abstract</h2><p>We study %[6]s with simulated data.</p></section>
			</div>
			<div class="entry_details">
				<div class="item galleys">
					<h2 class="pkp_screen_reader">Downloads</h2>
					<ul class="value galleys_links">
						<li><a class="obj_galley_link pdf" href="%[3]s/article/view/%[4]d/%[5]d">PDF</a></li>
					</ul>
				</div>
			</div>
		</div>
	</article>
</div>
</div></div>
</div>
</body>
</html>
`, t, doi, base, wk.n, ojsGalley(wk), strings.ToLower(t))
}

func dspacePage(wk Work) string {
	t, doi := html.EscapeString(wk.Title), html.EscapeString(wk.IDs.DOI)
	file := wk.LandingPDFURL()
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%[1]s | Simulated Institutional Repository</title>
<meta name="Generator" content="DSpace 6.3">
<link rel="schema.DCTERMS" href="http://purl.org/dc/terms/">
<meta name="DC.title" content="%[1]s" xml:lang="en">
<meta name="DC.identifier" content="https://doi.org/%[2]s" scheme="DCTERMS.URI">
<meta name="DCTERMS.issued" content="%[4]d" scheme="DCTERMS.W3CDTF">
<meta name="DC.type" content="Article">
</head>
<body>
<div id="ds-main">
<div id="ds-body">
<h2 class="page-header first-page-header">%[1]s</h2>
<div class="item-summary-view-metadata">
<div class="simple-item-view-uri item-page-field-wrapper table"><h5>URI</h5><span><a href="https://doi.org/%[2]s">https://doi.org/%[2]s</a></span></div>
<div class="simple-item-view-description item-page-field-wrapper table"><h5>Abstract</h5><div>We study %[5]s with simulated data.</div></div>
</div>
<div class="item-page-field-wrapper table word-break">
<h5>Files in this item</h5>
<div class="file-list"><div class="file-wrapper row">
<div class="file-metadata"><span class="bold">Name:</span> <span title="sim-%[6]d.pdf">sim-%[6]d.pdf</span></div>
<div class="file-link"><a href="%[3]s">View/<wbr>Open</a></div>
</div></div>
</div>
</div>
</div>
</body>
</html>
`, t, doi, html.EscapeString(file), wk.Year, strings.ToLower(t), wk.n)
}

func atyponPage(wk Work) string {
	t, doi := html.EscapeString(wk.Title), html.EscapeString(wk.IDs.DOI)
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>%[1]s: Simulated Quarterly: Vol 12, No 3</title>
<meta name="dc.Title" content="%[1]s">
<meta name="dc.Identifier" scheme="doi" content="%[2]s">
<meta name="dc.Type" content="research-article">
<meta name="dc.Publisher" content="Simulated Academic Publishing">
<link rel="canonical" href="/doi/full/%[2]s">
</head>
<body class="pb-ui">
<div class="article-chapter-view">
<div class="toc-heading"><h1 class="citation__title">%[1]s</h1></div>
<div class="epub-section"><span class="epub-section__item"><a class="epub-section__doi__text" href="https://doi.org/%[2]s">https://doi.org/%[2]s</a></span></div>
<nav class="stickybar__wrapper">
<ul class="rlist article-tools">
<li><a class="btn--pdf" href="/doi/epdf/%[2]s" title="ePDF"><span>ePDF</span></a></li>
<li><a class="btn--pdf show-pdf" href="/doi/pdf/%[2]s" title="PDF"><i class="icon-pdf-file"></i><span>PDF</span></a></li>
</ul>
</nav>
<div class="hlFld-Abstract"><h2>Abstract</h2><p>We study %[3]s with simulated data.</p></div>
</div>
</body>
</html>
`, t, doi, strings.ToLower(t))
}

func jsonldPage(wk Work) string {
	t := html.EscapeString(wk.Title)
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%[1]s | Simulated Open Research</title>
<meta name="description" content="%[1]s">
<script type="application/ld+json">
{
  "@context": "https://schema.org",
  "@graph": [
    {"@type": "WebPage", "@id": "%[3]s#webpage", "url": "%[3]s"},
    {"@type": "ScholarlyArticle", "@id": "%[3]s#article", "headline": %[4]q,
     "identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": %[2]q},
     "sameAs": "https://doi.org/%[2]s",
     "isAccessibleForFree": true,
     "license": "https://creativecommons.org/licenses/by/4.0/",
     "encoding": [{"@type": "MediaObject", "encodingFormat": "application/pdf", "contentUrl": %[5]q}]}
  ]
}
</script>
</head>
<body>
<div id="root" data-doi="%[2]s"><noscript>Please enable JavaScript to read this article.</noscript></div>
<script src="/static/js/main.8c3e1d.js"></script>
</body>
</html>
`, t, wk.IDs.DOI, wk.landingURL(), wk.Title, wk.LandingPDFURL())
}

func signpostingPage(wk Work) string {
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Item %[1]d | Simulated Data Repository</title>
<link rel="describedby" type="application/ld+json" href="/api/items/%[1]d/metadata">
</head>
<body>
<div id="app" data-item="%[1]d"><noscript>This repository needs JavaScript.</noscript></div>
<script src="/static/app.js"></script>
</body>
</html>
`, wk.n)
}

func springerPage(wk Work) string {
	t, doi := html.EscapeString(wk.Title), html.EscapeString(wk.IDs.DOI)
	file := html.EscapeString(wk.LandingPDFURL())
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en" class="no-js">
<head>
<meta charset="UTF-8">
<title>%[1]s | Simulated Journal of Methods</title>
<meta name="citation_title" content="%[1]s">
<meta name="citation_journal_title" content="Simulated Journal of Methods">
<meta name="citation_publisher" content="Springer">
<meta name="citation_doi" content="%[2]s">
<meta name="citation_pdf_url" content="%[3]s">
<meta name="dc.identifier" content="doi:%[2]s">
<meta property="og:type" content="article">
</head>
<body>
<main class="c-article-main-column u-float-left js-main-column" data-track-component="article body">
<div class="c-pdf-container"><div class="c-pdf-download u-clear-both">
<a href="%[3]s" class="u-button u-button--full-width u-button--primary u-justify-content-space-between c-pdf-download__link" data-article-pdf="true" data-readcube-pdf-url="true" data-track="content_download" data-track-action="download pdf" download>
<span class="c-pdf-download__text">Download PDF</span></a>
</div></div>
<article lang="en">
<div class="c-article-header"><h1 class="c-article-title" data-test="article-title">%[1]s</h1>
<ul class="c-article-identifiers"><li class="c-article-identifiers__item"><a href="https://doi.org/%[2]s">https://doi.org/%[2]s</a></li></ul></div>
<section data-title="Abstract"><div class="c-article-section" id="Abs1-section"><h2 class="c-article-section__title">Abstract</h2><p>We study %[4]s with simulated data.</p></div></section>
</article>
</main>
</body>
</html>
`, t, doi, file, strings.ToLower(t))
}

// cookieMissing answers the highwire-cookie PDF requested without the
// landing page's session cookie: 403 with an HTML page, as publishers do.
// It reports whether it answered.
func cookieMissing(w http.ResponseWriter, r *http.Request, wk Work) bool {
	if wk.Platform() != PlatformCookie {
		return false
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value == wk.sessionValue() {
		return false
	}
	writeText(w, http.StatusForbidden, "text/html; charset=utf-8", fmt.Sprintf(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Session expired | %s</title></head>
<body><h1>Your session has expired</h1><p>Please return to the <a href="/article/%s">article page</a> and try again.</p></body></html>
`, html.EscapeString(wk.publisherHost()), html.EscapeString(wk.key())))
	return true
}
