package hostpolicy

import "net/http"

// DefaultUserAgent is the User-Agent oafetch sends when net.user_agent is
// empty: it names the tool, its version and the contact address.
func DefaultUserAgent(version, mailto string) string {
	ua := "oafetch/" + version + " (+https://github.com/oafetch/oafetch"
	if mailto != "" {
		ua += "; mailto:" + mailto
	}
	return ua + ")"
}

// UserAgent returns a RoundTripper that sets the User-Agent header to ua on
// requests that do not carry one, then calls next. The caller's request is
// not modified (it is cloned). Safe for concurrent use if next is.
func UserAgent(next http.RoundTripper, ua string) http.RoundTripper {
	return userAgent{next: next, ua: ua}
}

type userAgent struct {
	next http.RoundTripper
	ua   string
}

func (u userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(req)
}
