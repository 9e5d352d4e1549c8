// Package landing analyses publisher and repository landing pages: it finds
// the links that lead to a work's full text (ranked, each with the technique
// that found it) and says what the page is — the article, the full text
// itself, or a wall (bot challenge, captcha, login, paywall, cookie consent)
// or an error page.
//
// The package is pure analysis: it never fetches anything. The cascade
// fetches a page, calls Extract, and decides which link to try, whether to
// follow Result.Refresh, and how to report a wall (Verdict.Code).
//
// Every function is safe for concurrent use; there is no package state.
package landing

import (
	"net/http"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Verdict says what a fetched page is.
type Verdict string

// The verdicts.
const (
	// VerdictArticle is a landing page of the work (its links, if any, lead
	// to the full text).
	VerdictArticle Verdict = "article"
	// VerdictFullTextHTML is a page that is itself the full text (body
	// sections: introduction, methods, results, …).
	VerdictFullTextHTML Verdict = "fulltext-html"
	// VerdictChallenge is a bot wall: Cloudflare (incl. Turnstile), DataDome,
	// PerimeterX, Akamai, Imperva, AWS WAF, proof-of-work interstitials.
	VerdictChallenge Verdict = "challenge"
	// VerdictCaptcha is a reCAPTCHA/hCaptcha or similar form.
	VerdictCaptcha Verdict = "captcha"
	// VerdictLogin is a login, SSO (Shibboleth, OpenAthens, WAYF) or EZproxy page.
	VerdictLogin Verdict = "login"
	// VerdictPaywall is a page of the work that offers it only for money or
	// through a subscription.
	VerdictPaywall Verdict = "paywall"
	// VerdictCookie is a dedicated consent page (not a banner over a page).
	VerdictCookie Verdict = "cookie"
	// VerdictError is an error page (4xx/5xx, "page not found", "DOI not found").
	VerdictError Verdict = "error"
)

// Verdicts returns every verdict, in the order of this file.
func Verdicts() []Verdict {
	return []Verdict{
		VerdictArticle, VerdictFullTextHTML, VerdictChallenge, VerdictCaptcha,
		VerdictLogin, VerdictPaywall, VerdictCookie, VerdictError,
	}
}

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool {
	for _, w := range Verdicts() {
		if v == w {
			return true
		}
	}
	return false
}

// Blocked reports whether v is a wall (challenge, captcha, login, paywall,
// cookie).
func (v Verdict) Blocked() bool {
	switch v {
	case VerdictChallenge, VerdictCaptcha, VerdictLogin, VerdictPaywall, VerdictCookie:
		return true
	}
	return false
}

// Code maps v to the outcome code a caller reports when the page is where
// its search ended: the walls to their blocked-* codes, an article (whose
// links, if any, all failed) to no-pdf-link, a full-text page to ok-html and
// an error page to not-found. Result.Code refines the error case with the
// HTTP status (401/403 → blocked-forbidden).
func (v Verdict) Code() fulltext.Code {
	switch v {
	case VerdictFullTextHTML:
		return fulltext.CodeOKHTML
	case VerdictChallenge:
		return fulltext.CodeBlockedChallenge
	case VerdictCaptcha:
		return fulltext.CodeBlockedCaptcha
	case VerdictLogin:
		return fulltext.CodeBlockedLogin
	case VerdictPaywall:
		return fulltext.CodeBlockedPaywall
	case VerdictCookie:
		return fulltext.CodeBlockedCookie
	case VerdictError:
		return fulltext.CodeNotFound
	}
	return fulltext.CodeNoPDFLink
}

// Link is one URL that may hold the full text.
type Link struct {
	// URL is absolute, http or https, without fragment.
	URL  string        `json:"url"`
	Kind fulltext.Kind `json:"kind"`
	// Technique names the rule that found the link ("citation_pdf_url",
	// "signposting", "jsonld", "anchor", …); telemetry counts yield per
	// technique.
	Technique string `json:"technique"`
	// Score in (0, 1]: higher is more likely the work's full text.
	Score float64 `json:"score"`
}

// Hint is what the caller knows of the work. Links carrying a DOI other
// than Hint.DOI (or, without a hint, the page's own DOI) are refused.
type Hint struct {
	DOI, Title, PMCID, ArXiv string
}

// Identity is what the page says about the work it describes.
type Identity struct {
	DOI   string `json:"doi,omitempty"`
	Title string `json:"title,omitempty"`
}

// Result is the analysis of one page. json.Marshal(Result) is what
// `oafetch extract` prints.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Links are best first; never nil after Extract (an empty list marshals
	// as []).
	Links []Link `json:"links"`
	// Refresh is where the page sends the browser, absolute: the Location
	// of a 3xx answer, else (except on challenge, captcha, login, cookie and
	// error pages) a meta refresh of at most 10 s, or, on pages without
	// article metadata, a JavaScript location bounce or an interstitial
	// redirect form. Empty when the page does not redirect.
	Refresh string `json:"refresh,omitempty"`
	// Identity comes from Highwire, Dublin Core, PRISM and JSON-LD tags.
	Identity Identity `json:"identity"`

	status int
}

// Candidates turns the links into download candidates of source, best
// first, each carrying the page as Referer (publishers check it) and its
// technique. An html link is the HTML full text (Kind html), not a page to
// scrape: Landing stays false.
func (r Result) Candidates(source, pageURL string) []fulltext.Candidate {
	out := make([]fulltext.Candidate, 0, len(r.Links))
	for _, l := range r.Links {
		out = append(out, fulltext.Candidate{
			URL: l.URL, Kind: l.Kind, Source: source, Technique: l.Technique,
			Referer: pageURL, Score: l.Score,
		})
	}
	return out
}

// Code is the outcome code for a search that ended on this page:
// Verdict.Code, except that an error page answered with 401 or 403 is
// blocked-forbidden, and a full-text page is ok-html.
func (r Result) Code() fulltext.Code {
	if r.Verdict == VerdictError && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden) {
		return fulltext.CodeBlockedForbidden
	}
	return r.Verdict.Code()
}

// Rules for links on walls, decided once here:
//
//   - challenge, captcha, login, cookie and error pages yield no links: what
//     they link to is the wall's machinery, not the work.
//   - a paywall page keeps its links (citation_pdf_url is usually still
//     there), at half score: they are leads of low confidence whose answer
//     is typically a login page or a first-page preview, which the download
//     validator refuses. The verdict stays paywall whatever links exist, so
//     a search that ends there reports blocked-paywall.
//   - a page that shows open-access signals (citation_fulltext_world_readable,
//     isAccessibleForFree, an open-access badge or CC licence) is never a
//     paywall, even if it offers a print copy for sale.
const paywallPenalty = 0.5
