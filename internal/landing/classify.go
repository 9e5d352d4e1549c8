package landing

import (
	"bytes"
	"html"
	"net/http"
	"regexp"
	"strings"
)

// maxClassifyBytes bounds the part of a body the classifier reads; walls
// are small and say what they are early.
const maxClassifyBytes = 2 << 20

// Classify says what a fetched page is from its status, headers and body
// alone. The rules, first match wins:
//
//  1. challenge: Cloudflare (cf-mitigated: challenge, _cf_chl_opt, the
//     challenge platform, "Just a moment..."), Turnstile, DataDome,
//     PerimeterX, Akamai "Access Denied", Imperva/Incapsula, AWS WAF,
//     proof-of-work "Preparing to download" (PMC, ALTCHA). Markers that
//     also appear on ordinary pages (bot-management scripts, Turnstile on a
//     comment form) count only on pages without article metadata.
//  2. captcha: reCAPTCHA/hCaptcha/"are you a robot" on a page without
//     article metadata.
//  3. error: status ≥ 400, or a "not found" page without article metadata.
//  4. cookie: a dedicated consent page — no article metadata and a consent
//     title or form (a banner over an article is not a wall).
//  5. login: no article metadata and a password form, SSO (Shibboleth,
//     OpenAthens, WAYF, SAML) or EZproxy wording.
//  6. paywall: purchase/rent/"no access" wording on a page without
//     open-access signals.
//  7. fulltext-html: the page has the body sections of an article.
//  8. article otherwise.
//
// Classify never fails; a nil header or empty body is allowed.
func Classify(status int, header http.Header, body []byte) Verdict {
	return classify(status, header, newSignals(body))
}

// signals is the lower-cased body with its title and the flags several
// rules share.
type signals struct {
	body    []byte
	title   string
	article bool // article metadata present
	oa      bool // open-access signals present
}

var (
	titleRe       = regexp.MustCompile(`(?s)<title[^>]*>(.*?)</title>`)
	articleMeta   = []string{"citation_title", "citation_doi", "citation_pdf_url", "dc.title", "prism.doi", "eprints.title", "bepress_citation", `"scholarlyarticle"`}
	oaMarkers     = []string{"citation_fulltext_world_readable", `"isaccessibleforfree": true`, `"isaccessibleforfree":true`, `"isaccessibleforfree": "true"`, `"isaccessibleforfree":"true"`, `"isopenaccess":true`, `name="citation_access" content="all"`, "creativecommons.org/licenses", "oa-badge", "open-access-badge", "access-icon oa"}
	oaBadgeRe     = regexp.MustCompile(`>\s*(open access|free access|acceso abierto|accès libre|acesso aberto)\s*<`)
	sectionHeadRe = regexp.MustCompile(`<h[2-4][^>]*>\s*(?:<[^>]+>\s*)*(?:[0-9ivx]+\.?\s*)?(introduction|background|methods|materials and methods|methodology|results|discussion|conclusions?|acknowledge?ments|references)\b`)
)

func newSignals(body []byte) *signals {
	if len(body) > maxClassifyBytes {
		body = body[:maxClassifyBytes]
	}
	s := &signals{body: bytes.ToLower(body)}
	if m := titleRe.FindSubmatch(s.body); m != nil {
		s.title = strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
	}
	s.article = s.hasAny(articleMeta...)
	s.oa = s.hasAny(oaMarkers...) || oaBadgeRe.Match(s.body)
	return s
}

func (s *signals) has(sub string) bool { return bytes.Contains(s.body, []byte(sub)) }

func (s *signals) hasAny(subs ...string) bool {
	for _, sub := range subs {
		if s.has(sub) {
			return true
		}
	}
	return false
}

func (s *signals) count(subs ...string) int {
	n := 0
	for _, sub := range subs {
		if s.has(sub) {
			n++
		}
	}
	return n
}

func classify(status int, header http.Header, s *signals) Verdict {
	if header == nil {
		header = http.Header{}
	}
	switch {
	case isChallenge(status, header, s):
		return VerdictChallenge
	case isCaptcha(s):
		return VerdictCaptcha
	case isError(status, s):
		return VerdictError
	case isCookieWall(s):
		return VerdictCookie
	case isLogin(s):
		return VerdictLogin
	case isPaywall(s):
		return VerdictPaywall
	case isFullText(s):
		return VerdictFullTextHTML
	}
	return VerdictArticle
}

func isChallenge(status int, h http.Header, s *signals) bool {
	// Headers: Cloudflare's documented signal, AWS WAF, DataDome blocks.
	if strings.EqualFold(h.Get("Cf-Mitigated"), "challenge") {
		return true
	}
	if a := strings.ToLower(h.Get("X-Amzn-Waf-Action")); a == "challenge" || a == "captcha" {
		return true
	}
	if h.Get("X-Datadome") != "" && status >= 400 {
		return true
	}
	// Markers only challenge pages carry.
	if s.hasAny("window._cf_chl_opt", "/cdn-cgi/challenge-platform/h/", "cf-browser-verification", "cf_chl_",
		"captcha-delivery.com", "px-captcha", "_incapsula_resource", "incapsula incident id",
		"aws-waf-token", "awswafintegration", "token.awswaf.com", "<altcha-widget") {
		return true
	}
	if strings.HasPrefix(s.title, "preparing to download") || s.has(`data-difficulty=`) && s.has(`data-challenge=`) {
		return true
	}
	if strings.Contains(s.title, "access denied") && s.hasAny("you don't have permission to access", "you don&#39;t have permission", "reference&#32;&#35;", "reference #18.", "errors.edgesuite.net") {
		return true
	}
	if s.article {
		return false
	}
	switch s.title {
	case "just a moment...", "just a moment…", "attention required! | cloudflare", "please wait...", "one moment, please...", "ddos-guard":
		return true
	}
	return s.hasAny("challenges.cloudflare.com/turnstile", "cf-turnstile", "checking your browser before accessing",
		"enable javascript and cookies to continue", "_pxappid", "press & hold", "press &amp; hold",
		"geo.captcha-delivery", "/cdn-cgi/challenge-platform/")
}

func isCaptcha(s *signals) bool {
	if s.article {
		return false
	}
	return s.hasAny("g-recaptcha", "recaptcha/api.js", "h-captcha", "hcaptcha.com/1/api.js", "class=\"captcha", "id=\"captcha",
		"are you a robot", "not a robot", "unusual traffic from your computer", "verify you are human", "solve the captcha", "enter the characters you see")
}

// notFoundTitleRe matches error-page titles; "error" counts only at the
// start or end of a title ("Error", "Server Error"), not inside one
// ("Measurement error in …").
var notFoundTitleRe = regexp.MustCompile(`\b(404|410|not found|page not found|doi not found|no longer available|page unavailable|does not exist|doesn't exist|access denied|forbidden)\b|^error\b|\berror$|error 40\d|error 50\d|nicht gefunden|introuvable|no encontrada|não encontrada`)

func isError(status int, s *signals) bool {
	if status >= 400 {
		return true
	}
	if s.article {
		return false
	}
	return notFoundTitleRe.MatchString(s.title) || s.hasAny("this doi cannot be found", "the page you requested could not be found", "the requested url was not found")
}

var (
	consentTitleRe = regexp.MustCompile(`privacy|cookie|consent|datenschutz|before you continue|votre vie privée|confidentialité|privacidad`)
	loginTitleRe   = regexp.MustCompile(`\b(log ?in|sign ?in|signin|anmelden|connexion|iniciar sesión)\b`)
)

func isCookieWall(s *signals) bool {
	if s.article {
		return false
	}
	consentTitle := consentTitleRe.MatchString(s.title)
	consentForm := s.hasAny(`action="/consent`, `action="https://consent.`, `/consent/submit`, `action="/cookie`, `cmp-fullpage`, `id="consent-page"`, `consent-wall`, `cookiewall`, `cookie-wall`)
	return consentTitle && (consentForm || s.hasAny("accept all", "reject all", "manage choices", "accept cookies", "alle akzeptieren", "tout accepter")) || consentForm
}

func isLogin(s *signals) bool {
	if s.article {
		return false
	}
	if s.hasAny(`type="password"`, `type=password`, `type='password'`) {
		return true
	}
	if s.hasAny("shibboleth", "openathens", "wayf", "samlrequest", "saml2", "where are you from", "select your institution", "ezproxy", "not been configured for access", "institutional login") {
		return true
	}
	return loginTitleRe.MatchString(s.title)
}

// Paywall wording: strong phrases are enough alone, weak ones need company.
var (
	paywallStrong = []string{"you do not currently have access", "you do not have access", "purchase this article", "purchase pdf",
		"buy pdf", "buy article", "buy this article", "rent this article", "pay per view", "pay-per-view",
		"subscription required", "subscribe to read", "to read the full", "access to the full text of this article requires", "no access</", "title=\"no access\""}
	paywallWeak = []string{"get access", "access through your institution", "check access", ">rent<", "subscribe", "institutional login",
		"log in via shibboleth", "access options", "purchase access", "get full access", "add to cart"}
)

func isPaywall(s *signals) bool {
	if s.oa {
		return false
	}
	return s.count(paywallStrong...) >= 1 || s.count(paywallWeak...) >= 2
}

func isFullText(s *signals) bool {
	if !s.article && !s.has("<article") {
		return false
	}
	seen := map[string]bool{}
	for _, m := range sectionHeadRe.FindAllSubmatch(s.body, 50) {
		seen[strings.TrimSuffix(string(m[1]), "s")] = true
	}
	// Introduction/background plus two more of methods, results,
	// discussion, conclusions, references.
	return (seen["introduction"] || seen["background"]) && len(seen) >= 4
}
