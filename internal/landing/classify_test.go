package landing

import (
	"net/http"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const articleHead = `<html><head><title>A study</title><meta name="citation_title" content="A study"><meta name="citation_doi" content="10.5555/a.1"></head>`

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   Verdict
	}{
		{"cf-mitigated header alone", 403, http.Header{"Cf-Mitigated": {"challenge"}}, "<html></html>", VerdictChallenge},
		{"cf-mitigated on an article body", 200, http.Header{"Cf-Mitigated": {"challenge"}}, articleHead + "<body></body>", VerdictChallenge},
		{"bare server cloudflare is not a challenge", 200, http.Header{"Server": {"cloudflare"}, "Cf-Ray": {"x"}}, articleHead + "<body></body>", VerdictArticle},
		{"cloudflare bot-management script on an article", 200, nil, articleHead + `<body><script>a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'</script></body>`, VerdictArticle},
		{"turnstile on an article comment form", 200, nil, articleHead + `<body><div class="cf-turnstile"></div><script src="https://challenges.cloudflare.com/turnstile/v0/api.js"></script></body>`, VerdictArticle},
		{"x-datadome on a 200 article", 200, http.Header{"X-Datadome": {"protected"}}, articleHead, VerdictArticle},
		{"x-datadome on a 403", 403, http.Header{"X-Datadome": {"protected"}}, "<html></html>", VerdictChallenge},
		{"aws waf header", 202, http.Header{"X-Amzn-Waf-Action": {"captcha"}}, "", VerdictChallenge},
		{"altcha", 200, nil, `<html><body><altcha-widget challengeurl="/c"></altcha-widget></body></html>`, VerdictChallenge},
		{"recaptcha on an article is not a wall", 200, nil, articleHead + `<div class="g-recaptcha"></div>`, VerdictArticle},
		{"hcaptcha page", 200, nil, `<html><script src="https://hcaptcha.com/1/api.js"></script><div class="h-captcha"></div></html>`, VerdictCaptcha},
		{"plain 403", 403, nil, "<html><title>Forbidden</title></html>", VerdictError},
		{"500", 500, nil, "", VerdictError},
		{"404 with article meta is still an error", 404, nil, articleHead, VerdictError},
		{"soft 404 title", 200, nil, "<html><head><title>404 - Seite nicht gefunden</title></head></html>", VerdictError},
		{"consent title with form", 200, nil, `<html><head><title>Cookie consent</title></head><body><form action="/consent/save"><button>Accept all</button></form></body></html>`, VerdictCookie},
		{"cookie banner over an article", 200, nil, articleHead + `<div id="onetrust-banner-sdk">We use cookies <button>Accept all</button></div>`, VerdictArticle},
		{"password form", 200, nil, `<html><title>Account</title><form><input type="password"></form></html>`, VerdictLogin},
		{"openathens wayf", 200, nil, `<html><title>Find your institution</title><p>Sign in with OpenAthens</p></html>`, VerdictLogin},
		{"login modal on an article is not a login page", 200, nil, articleHead + `<form action="/action/doLogin"><input type="password"></form>`, VerdictArticle},
		{"purchase on a closed article", 200, nil, articleHead + `<a href="/buy">Purchase PDF</a>`, VerdictPaywall},
		{"one weak paywall phrase is not enough", 200, nil, articleHead + `<a href="/subscribe">Subscribe</a>`, VerdictArticle},
		{"open access article selling print", 200, nil, articleHead + `<meta name="citation_fulltext_world_readable" content=""><a>Purchase PDF</a>`, VerdictArticle},
		{"full text sections", 200, nil, articleHead + `<h2>1. Introduction</h2><h2>Methods</h2><h2>Results</h2><h2>Discussion</h2>`, VerdictFullTextHTML},
		{"abstract only", 200, nil, articleHead + `<h2>Abstract</h2><h2>References</h2>`, VerdictArticle},
		{"empty", 200, nil, "", VerdictArticle},
		{"nil header and zero status", 0, nil, "<html></html>", VerdictArticle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.status, tt.header, []byte(tt.body)); got != tt.want {
				t.Errorf("Classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVerdictCode(t *testing.T) {
	t.Parallel()
	want := map[Verdict]fulltext.Code{
		VerdictArticle:      fulltext.CodeNoPDFLink,
		VerdictFullTextHTML: fulltext.CodeOKHTML,
		VerdictChallenge:    fulltext.CodeBlockedChallenge,
		VerdictCaptcha:      fulltext.CodeBlockedCaptcha,
		VerdictLogin:        fulltext.CodeBlockedLogin,
		VerdictPaywall:      fulltext.CodeBlockedPaywall,
		VerdictCookie:       fulltext.CodeBlockedCookie,
		VerdictError:        fulltext.CodeNotFound,
	}
	if len(want) != len(Verdicts()) {
		t.Fatalf("table covers %d verdicts, Verdicts has %d", len(want), len(Verdicts()))
	}
	for _, v := range Verdicts() {
		if got := v.Code(); got != want[v] || !got.Known() {
			t.Errorf("%s.Code() = %q, want %q", v, got, want[v])
		}
	}
}

func TestResultCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   fulltext.Code
	}{
		{401, fulltext.CodeBlockedForbidden},
		{403, fulltext.CodeBlockedForbidden},
		{404, fulltext.CodeNotFound},
		{410, fulltext.CodeNotFound},
		{500, fulltext.CodeNotFound},
	}
	for _, tt := range tests {
		r := Extract("https://example.org/x", tt.status, nil, []byte("<html><title>No</title></html>"), Hint{})
		if r.Verdict != VerdictError || r.Code() != tt.want {
			t.Errorf("status %d: verdict %q code %q, want error %q", tt.status, r.Verdict, r.Code(), tt.want)
		}
	}
}

func TestClassifyTitles(t *testing.T) {
	t.Parallel()
	tests := map[string]Verdict{
		"Error":               VerdictError,
		"Server Error":        VerdictError,
		"Error 404 - Example": VerdictError,
		"Measurement error in ecological surveys": VerdictArticle,
		"Page not found | Example":                VerdictError,
	}
	for title, want := range tests {
		if got := Classify(200, nil, []byte("<html><head><title>"+title+"</title></head></html>")); got != want {
			t.Errorf("title %q: %q, want %q", title, got, want)
		}
	}
	if got := Classify(200, nil, []byte(articleHead+`<span>Open Access</span><a>Purchase PDF</a>`)); got != VerdictArticle {
		t.Errorf("open-access badge with a print sale: %q, want article", got)
	}
}
