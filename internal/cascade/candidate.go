package cascade

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
)

// tryCandidate fetches one candidate and, for a landing page, its links.
// It reports whether a full text was won.
func (r *run) tryCandidate(ctx context.Context, cand fulltext.Candidate, parent, depth int) bool {
	key := canonicalURL(cand.URL)
	r.mu.Lock()
	if r.seen[key] {
		r.mu.Unlock()
		return false
	}
	r.seen[key] = true
	r.candidates = append(r.candidates, cand)
	host := hostOf(cand.URL)
	if r.blockedHos[host] && !cand.Landing {
		r.mu.Unlock()
		r.record(fulltext.Attempt{Source: cand.Source, URL: cand.URL, Version: cand.Version, License: cand.License, Host: host, Technique: cand.Technique, Parent: parent,
			Code: fulltext.CodeSkipBreaker, Detail: "host served a wall earlier in this work", At: r.c.clock.Now()})
		r.noteFailed(cand)
		return false
	}
	if w, ok := r.c.challengedAt(host); ok {
		r.mu.Unlock()
		r.record(fulltext.Attempt{Source: cand.Source, URL: cand.URL, Version: cand.Version, License: cand.License, Host: host, Technique: cand.Technique, Parent: parent,
			Code: w.code, Detail: "not fetched: the host served a challenge wall at " + w.at.UTC().Format(time.RFC3339) + " in this run",
			At: r.c.clock.Now()})
		r.noteFailed(cand)
		return false
	}
	if r.fetches >= r.c.cfg.MaxAttempts {
		r.mu.Unlock()
		r.record(fulltext.Attempt{Source: cand.Source, URL: cand.URL, Version: cand.Version, License: cand.License, Parent: parent, Code: fulltext.CodeBudgetExhausted,
			Detail: fmt.Sprintf("max attempts %d reached", r.c.cfg.MaxAttempts), At: r.c.clock.Now()})
		return false
	}
	r.fetches++
	r.mu.Unlock()
	if r.c.cfg.DryRun {
		return false
	}
	if !cand.Landing && !r.c.accepts(cand.Kind) {
		r.record(fulltext.Attempt{Source: cand.Source, URL: cand.URL, Version: cand.Version, License: cand.License, Parent: parent, Kind: cand.Kind,
			Code: fulltext.CodeSkipNotApplicable, Detail: "format not requested", At: r.c.clock.Now()})
		return false
	}

	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	start := r.c.clock.Now()
	// Full texts and landing pages come from publisher hosts: robots.txt
	// applies (API calls by the sources do not carry the mark).
	f, err := r.c.fetch.Fetch(hostpolicy.WithRobots(ctx), r.lease, cand, r.hooks)
	<-r.sem
	att := fulltext.Attempt{
		Source: cand.Source, URL: cand.URL, Host: host, Technique: cand.Technique, Kind: cand.Kind,
		Version: cand.Version, License: cand.License, Parent: parent, At: start, Duration: r.c.clock.Now().Sub(start),
	}
	if f != nil {
		att.HTTPStatus, att.Hops, att.Bytes = f.Status, f.Hops, f.Bytes
	}
	if err != nil {
		if ctx.Err() != nil && r.done() {
			return false // a sibling won; this one was cancelled
		}
		att.Code, att.Detail = r.failCode(ctx, err)
		var fe *fulltext.Error
		if errors.As(err, &fe) {
			r.noteRetryAfter(fe.RetryAfter)
		}
		r.record(att)
		r.noteFailed(cand)
		return false
	}
	if f.Temp != nil {
		if !r.c.accepts(f.Kind) {
			_ = f.Temp.Abort()
			att.Code, att.Detail = fulltext.CodeWrongType, fmt.Sprintf("got %s, not requested", f.Kind)
			r.record(att)
			return false
		}
		att.Code, att.Kind = okCode(f.Kind), f.Kind
		if !r.verify(&att, cand, f) {
			return false
		}
		return r.win(att, cand, f)
	}
	// An HTML page: analyse it as a landing page.
	r.noteFailed(fulltext.Candidate{URL: f.FinalURL, Kind: fulltext.KindHTML})
	page := r.c.analyze(f.FinalURL, f.Status, f, r.workSnapshot())
	att.Kind = fulltext.KindHTML
	if page.Code == fulltext.CodeOKHTML && r.c.accepts(fulltext.KindHTML) && !r.c.prefersFile(page) {
		// The page is the full text; the worker stores f.Page.
		f.Kind, att.Code = fulltext.KindHTML, fulltext.CodeOKHTML
		if !r.verify(&att, cand, f) {
			return false
		}
		return r.win(att, cand, f)
	}
	if page.Code != "" && page.Code != fulltext.CodeOKHTML && len(page.Links) == 0 && page.Refresh == "" {
		att.Code = page.Code
		if att.Code == fulltext.CodeNoPDFLink && cand.Kind == fulltext.KindHTML && !cand.Landing {
			// An HTML full-text candidate that is only a landing page.
			att.Code, att.Detail = fulltext.CodeWrongScope, "html candidate is a landing page, not the article"
		}
		if att.Code.Outcome() == fulltext.OutcomeBlocked {
			finalHost := hostOf(f.FinalURL)
			r.c.markChallenged(finalHost, att.Code)
			r.mu.Lock()
			r.blockedHos[finalHost] = true
			r.mu.Unlock()
		}
		r.record(att)
		return false
	}
	att.Code = fulltext.CodeNoPDFLink
	att.Detail = fmt.Sprintf("landing page: %d links", len(page.Links))
	seq := r.record(att)
	if depth >= r.c.cfg.MaxLandingDepth {
		return false
	}
	links := page.Links
	if page.Refresh != "" {
		links = append([]fulltext.Candidate{{URL: page.Refresh, Kind: cand.Kind, Source: cand.Source, Technique: "refresh", Landing: true}}, links...)
	}
	for _, l := range links {
		if ctx.Err() != nil || r.done() {
			return false
		}
		l.Source = cand.Source
		l.Referer = f.FinalURL
		// The page's links are the copy its source described.
		l.Version = cmp.Or(l.Version, cand.Version)
		l.License = cmp.Or(l.License, cand.License)
		if r.tryCandidate(ctx, l, seq, depth+1) {
			return true
		}
	}
	return false
}

// noteFailed remembers a URL that gave no full text (not doi.org: the
// archive knows the pages it leads to, not the resolver).
func (r *run) noteFailed(c fulltext.Candidate) {
	if h := hostOf(c.URL); h == "doi.org" || h == "dx.doi.org" || h == "web.archive.org" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Landing || c.Kind == fulltext.KindHTML {
		r.failedPages = append(r.failedPages, c.URL)
	} else {
		r.failedFiles = append(r.failedFiles, c.URL)
	}
}

func (r *run) failedURLs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(append([]string(nil), r.failedFiles...), r.failedPages...)
}

func (r *run) workSnapshot() fulltext.Work {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.work
}

// prefersFile reports whether a full-text HTML page also links a file of a
// kind ranked above HTML in Formats, which is then tried first.
func (c *Cascade) prefersFile(p Page) bool {
	for _, l := range p.Links {
		for _, f := range c.cfg.Formats {
			if f == fulltext.KindHTML {
				break
			}
			if f == l.Kind {
				return true
			}
		}
	}
	return false
}

func (c *Cascade) accepts(k fulltext.Kind) bool {
	if k == "" {
		return true
	}
	for _, f := range c.cfg.Formats {
		if f == k {
			return true
		}
	}
	return false
}

// verify runs the configured wrong-work check on f; a rejected f is
// recorded, aborted and remembered as failed.
func (r *run) verify(att *fulltext.Attempt, cand fulltext.Candidate, f *download.Fetched) bool {
	if r.c.cfg.Verify == nil {
		return true
	}
	detail, err := r.c.cfg.Verify(f, r.workSnapshot())
	att.Detail = detail
	if err == nil {
		return true
	}
	_ = f.Abort()
	att.Code, att.Detail = fulltext.CodeOf(err), err.Error()
	r.record(*att)
	r.noteFailed(cand)
	return false
}

// win keeps f if no other candidate won first; a late winner is aborted.
func (r *run) win(att fulltext.Attempt, cand fulltext.Candidate, f *download.Fetched) bool {
	r.mu.Lock()
	if r.winner != nil {
		r.mu.Unlock()
		_ = f.Temp.Abort()
		return false
	}
	r.winner, r.winCand = f, cand
	att.Seq = len(r.attempts) + 1
	r.attempts = append(r.attempts, att)
	r.mu.Unlock()
	return true
}

// record appends an attempt, folds its code into the best code, and returns
// its sequence number.
func (r *run) record(a fulltext.Attempt) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.Seq = len(r.attempts) + 1
	if a.At.IsZero() {
		a.At = r.c.clock.Now()
	}
	r.attempts = append(r.attempts, a)
	if a.Code != "" && a.Code.Better(r.best) {
		r.best, r.bestDetail = a.Code, a.Detail
	}
	if a.Code.Retryable() && a.Code.Better(r.bestRetry) {
		r.bestRetry, r.bestRetryDetail = a.Code, a.Detail
	}
	return a.Seq
}

func (r *run) noteRetryAfter(d time.Duration) {
	r.mu.Lock()
	r.retryAfter = max(r.retryAfter, d)
	r.mu.Unlock()
}

// canonicalURL is the de-duplication key of a candidate: scheme and host
// lower-cased, default ports and fragments dropped. Paths keep their case
// and escaping (a DOI's %2F must survive).
func canonicalURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	u.Host = host
	if port != "" {
		u.Host = host + ":" + port
	}
	u.Fragment = ""
	if u.Scheme == "http" {
		u.Scheme = "https" // the same document over either scheme
	}
	return u.String()
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
