package hostpolicy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/temoto/robotstxt"
	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// robotsAgent is the product token matched against robots.txt groups
// (RFC 9309 §2.2.1: the bare token, not the full User-Agent).
const robotsAgent = "oafetch"

// maxRobotsBytes is how much of a robots.txt is parsed (RFC 9309 §2.5 asks
// for at least 500 KiB).
const maxRobotsBytes = 512 << 10

type robotsKey struct{}

// WithRobots marks ctx so that requests made with it obey the target
// host's robots.txt (landing pages, publisher hosts). API calls leave it
// off. A disallowed request fails with skip-robots before it is sent.
func WithRobots(ctx context.Context) context.Context {
	return context.WithValue(ctx, robotsKey{}, true)
}

func robotsWanted(ctx context.Context) bool {
	v, _ := ctx.Value(robotsKey{}).(bool)
	return v
}

// robotsEntry caches one host's robots.txt verdict. sem serialises the
// fetch so each host's robots.txt is fetched once per TTL, whoever asks.
type robotsEntry struct {
	sem chan struct{}

	// guarded by sem
	data    *robotstxt.RobotsData
	kind    string // "rules", "allow-all", "disallow-all"
	expires time.Time
}

func (e *robotsEntry) summary(now time.Time) string {
	select {
	case e.sem <- struct{}{}:
		defer func() { <-e.sem }()
	default:
		return "fetching"
	}
	if e.data == nil || !now.Before(e.expires) {
		return ""
	}
	return e.kind
}

// checkRobots returns a skip-robots error when h's robots.txt disallows
// req for the "oafetch" token, fetching and caching it first if needed.
func (p *Policy) checkRobots(req *http.Request, h *host, next http.RoundTripper) error {
	ctx := req.Context()
	e := h.robots
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.sem }()
	if e.data == nil || !p.clock.Now().Before(e.expires) {
		data, kind, err := p.fetchRobots(req, next)
		if err != nil {
			return err
		}
		e.data, e.kind, e.expires = data, kind, p.clock.Now().Add(p.robotsTTL)
		if kind == "rules" {
			p.applyCrawlDelay(h, data.FindGroup(robotsAgent).CrawlDelay)
		}
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if req.URL.RawQuery != "" {
		path += "?" + req.URL.RawQuery
	}
	if !e.data.TestAgent(path, robotsAgent) {
		return &fulltext.Error{Code: fulltext.CodeSkipRobots,
			Err: fmt.Errorf("hostpolicy: robots.txt of %s disallows %s (%s)", h.key, path, e.kind)}
	}
	return nil
}

// fetchRobots fetches /robots.txt for req's origin through the policy
// (paced, retried) and applies RFC 9309 §2.3.1: 2xx → the rules; up to
// five redirects followed; 4xx (other than 429) → allow all; 429, 5xx or
// unreachable → disallow all. Only a cancelled context is an error.
func (p *Policy) fetchRobots(orig *http.Request, next http.RoundTripper) (*robotstxt.RobotsData, string, error) {
	ctx := orig.Context()
	u := &url.URL{Scheme: orig.URL.Scheme, Host: orig.URL.Host, Path: "/robots.txt"}
	for hop := 0; hop <= 5; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return disallowAll(), "disallow-all", nil
		}
		if ua := orig.Header.Get("User-Agent"); ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		resp, err := p.send(req, p.host(hostKey(u)), next)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			var fe *fulltext.Error
			if errors.As(err, &fe) && (fe.Code == fulltext.CodeSkipBreaker || fe.Code == fulltext.CodeRateLimited) {
				// The host's own state says "not now"; that is not a
				// verdict to cache for the TTL.
				return nil, "", err
			}
			if errors.As(err, &fe) && fe.Code == fulltext.CodeSkipBlocklist {
				// Refused by the private-address guard: the request for
				// the page itself would be too, and that (skip-blocklist,
				// naming the address) is the verdict, not robots.
				return nil, "", err
			}
			// Unreachable.
			return disallowAll(), "disallow-all", nil
		}
		code := resp.StatusCode
		switch {
		case code >= 200 && code < 300:
			body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
			resp.Body.Close()
			if err != nil {
				if ctx.Err() != nil {
					return nil, "", ctx.Err()
				}
				return disallowAll(), "disallow-all", nil
			}
			data, err := robotstxt.FromBytes(body)
			if err != nil {
				// Unparseable rules restrict nothing we can name.
				return allowAll(), "allow-all", nil
			}
			return data, "rules", nil
		case code >= 300 && code < 400:
			loc, err := resp.Location()
			drain(resp)
			if err != nil {
				return allowAll(), "allow-all", nil
			}
			u = loc
			continue
		case code == http.StatusTooManyRequests || code >= 500:
			drain(resp)
			return disallowAll(), "disallow-all", nil
		default:
			drain(resp)
			return allowAll(), "allow-all", nil
		}
	}
	return allowAll(), "allow-all", nil // too many redirects: unavailable
}

func allowAll() *robotstxt.RobotsData {
	d, _ := robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
	return d
}

func disallowAll() *robotstxt.RobotsData {
	d, _ := robotstxt.FromStatusAndBytes(http.StatusServiceUnavailable, nil)
	return d
}

// maxCrawlDelay bounds the Crawl-delay obeyed, so a hostile robots.txt
// cannot stall a host's queue for hours.
const maxCrawlDelay = time.Minute

// applyCrawlDelay slows h to one request per Crawl-delay when that is
// slower than its configured rate; it never speeds a host up.
func (p *Policy) applyCrawlDelay(h *host, d time.Duration) {
	if d <= 0 {
		return
	}
	h.mu.Lock()
	h.crawl = rate.Every(min(d, maxCrawlDelay))
	h.mu.Unlock()
	p.repace(h)
}
