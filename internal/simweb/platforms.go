package simweb

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
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
)

var platforms = []Platform{PlatformHighwire, PlatformCookie}

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
	case PlatformHighwire, PlatformCookie:
		return wk.publisherPDFURL()
	}
	return base + "/article/" + wk.key() + "/pdf"
}

// platformPDFRe matches the PDF paths of the platforms that do not serve
// the PDF at /article/{doi}/pdf; the first non-empty group is the work
// index.
var platformPDFRe = regexp.MustCompile(`^/(?:index\.php/sim/article/download/(\d+)/\d+|bitstream/handle/10\.5555/(\d+)/sim-\d+\.pdf|doi/pdf/10\.5555/sim\.(\d+)|content/pdf/10\.5555/sim\.(\d+)\.pdf|files/sim-(\d+)\.pdf|download/sim-(\d+)/article\.pdf)$`)

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
	switch wk.Platform() {
	case PlatformCookie:
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: wk.sessionValue(), Path: "/", Secure: true, HttpOnly: true})
	}
	writeText(w, http.StatusOK, "text/html; charset=utf-8", articlePage(wk, true))
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
