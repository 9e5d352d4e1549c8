package landing

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// DefaultMaxHops is the hop budget of a Hops with Max 0.
const DefaultMaxHops = 10

// Hops is the bookkeeping of one chain of hops — HTTP redirects followed by
// hand, meta refreshes, JavaScript bounces, interstitial forms — from a
// start URL: a seen-set that detects loops and a budget. It does no I/O; the
// caller fetches each hop (checking it with its URL policy first) and asks
// Next before following the one after.
//
// A Hops is not safe for concurrent use; one chain belongs to one fetch.
type Hops struct {
	max   int
	seen  map[string]bool
	chain []string
}

// NewHops starts a chain at start. max is the number of hops allowed after
// the start; 0 means DefaultMaxHops.
func NewHops(start string, max int) *Hops {
	h := &Hops{max: cmp.Or(max, DefaultMaxHops), seen: map[string]bool{}}
	h.chain = append(h.chain, start)
	h.seen[hopKey(start)] = true
	return h
}

// Next records a hop to target, resolved against the current URL, and
// returns the absolute URL to fetch. It fails with a *fulltext.Error coded
// redirect-loop when target was already visited in this chain, max-hops
// when the budget is spent, and not-found when target is not an http(s)
// URL.
func (h *Hops) Next(target string) (string, error) {
	cur, _ := url.Parse(h.chain[len(h.chain)-1])
	c := newCollector("")
	if cur != nil && cur.IsAbs() {
		c.base = cur
	}
	u := c.resolve(target)
	if u == nil {
		return "", fulltext.Errorf(fulltext.CodeNotFound, "landing: hop to %q: not an http(s) URL", target)
	}
	next := u.String()
	if h.seen[hopKey(next)] {
		return "", fulltext.Errorf(fulltext.CodeRedirectLoop, "landing: hop to %s: already visited after %d hops", next, len(h.chain)-1)
	}
	if len(h.chain)-1 >= h.max {
		return "", fulltext.Errorf(fulltext.CodeMaxHops, "landing: hop to %s: more than %d hops", next, h.max)
	}
	h.seen[hopKey(next)] = true
	h.chain = append(h.chain, next)
	return next, nil
}

// Chain returns the URLs visited so far, the start first (for
// fulltext.Attempt.Hops).
func (h *Hops) Chain() []string { return append([]string(nil), h.chain...) }

// Redirect returns the Location of a 3xx answer, resolved against the URL it
// answered, or false when the answer is not a redirect with a Location.
func Redirect(requestURL string, status int, header http.Header) (string, bool) {
	if status < 300 || status > 399 || header == nil {
		return "", false
	}
	loc := header.Get("Location")
	if loc == "" {
		return "", false
	}
	c := newCollector(requestURL)
	u := c.resolve(loc)
	if u == nil {
		return "", false
	}
	return u.String(), true
}

// hopKey normalises a URL for loop detection: scheme and host lower case,
// default ports and fragments dropped.
func hopKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	host = strings.TrimSuffix(host, ":80")
	host = strings.TrimSuffix(host, ":443")
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
