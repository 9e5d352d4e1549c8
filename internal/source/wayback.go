package source

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Wayback finds archived copies of a work's known URLs in the Internet
// Archive (apis.md §7): the CDX API first (GET /cdx/search/cdx on
// web.archive.org; status 200, application/pdf, within a window around the
// publication year), the availability API (GET /wayback/available on
// archive.org) as a fallback. Candidates are raw `id_` replay URLs, which return the
// original bytes. The Archive firewalls clients that ignore its 429s, so a
// 429 is returned at once (no fallback) and at most maxWaybackURLs URLs
// are asked about per work. Safe for concurrent use.
type Wayback struct {
	// cdxHost serves CDX (web.archive.org), availHost the availability
	// API (archive.org). Both are BaseURL when it is set.
	cdxHost, availHost string
	c                  *caller
}

const (
	waybackReplay  = "https://web.archive.org"
	maxWaybackURLs = 3
	// The CDX window: captures from the year before publication (preprints)
	// to waybackYearsAfter later (later captures of an old URL are often a
	// re-registered domain).
	waybackYearsAfter = 15
)

func newWayback(cfg Config, c *caller) *Wayback {
	return &Wayback{cdxHost: base(cfg, "https://web.archive.org"), availHost: base(cfg, "https://archive.org"), c: c}
}

// Name returns "wayback".
func (wb *Wayback) Name() string { return "wayback" }

// Applicable reports whether the work's OpenAlex record names a URL to
// look up. The cascade can ask about other URLs with LookupURLs.
func (wb *Wayback) Applicable(w fulltext.Work) bool { return len(recordURLs(w)) > 0 }

// Lookup asks about the URLs of the work's record: PDF URLs first, then
// oa_url, then landing pages. See LookupURLs.
func (wb *Wayback) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	urls := recordURLs(w)
	if len(urls) == 0 {
		return Result{}, notApplicable(wb.Name())
	}
	return wb.LookupURLs(ctx, w, urls)
}

// LookupURLs asks about each of urls in turn (at most the first three) and
// returns the captures of the first one that has any: every 200 PDF
// capture CDX lists in the window (oldest first), or else the closest
// capture the availability API knows. Nothing archived is no-capture; a
// 429 is rate-limited at once; other CDX failures fall back to the
// availability API, whose failure is returned only when nothing was found.
func (wb *Wayback) LookupURLs(ctx context.Context, w fulltext.Work, urls []string) (Result, error) {
	year := w.Year
	if year == 0 {
		var rec struct {
			PublicationYear int `json:"publication_year"`
		}
		if json.Unmarshal(w.Record, &rec) == nil {
			year = rec.PublicationYear
		}
	}
	var firstErr error
	for i, u := range urls {
		if i == maxWaybackURLs {
			break
		}
		cands, err := wb.lookupURL(ctx, u, year)
		if err != nil {
			if fulltext.CodeOf(err) == fulltext.CodeRateLimited || ctx.Err() != nil {
				return Result{}, err
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if len(cands) > 0 {
			cs := newCandidates(wb.Name())
			for _, c := range cands {
				cs.add(c)
			}
			return Result{Candidates: cs.done()}, nil
		}
	}
	if firstErr != nil {
		return Result{}, firstErr
	}
	return Result{}, fulltext.Errorf(fulltext.CodeNoCapture, "wayback: no capture of %d url(s)", min(len(urls), maxWaybackURLs))
}

func (wb *Wayback) lookupURL(ctx context.Context, u string, year int) ([]fulltext.Candidate, error) {
	cands, cdxErr := wb.cdx(ctx, u, year)
	if cdxErr == nil && len(cands) > 0 {
		return cands, nil
	}
	if fulltext.CodeOf(cdxErr) == fulltext.CodeRateLimited {
		return nil, cdxErr
	}
	cands, err := wb.available(ctx, u, year)
	if err != nil {
		if cdxErr != nil {
			return nil, cdxErr
		}
		return nil, err
	}
	return cands, nil
}

// cdx lists 200 PDF captures of u.
func (wb *Wayback) cdx(ctx context.Context, u string, year int) ([]fulltext.Candidate, error) {
	q := url.Values{
		"url":    {u},
		"output": {"json"},
		"fl":     {"timestamp,original,mimetype,statuscode,digest,length"},
		"filter": {"statuscode:200", "mimetype:application/pdf"},
		"limit":  {"5"},
	}
	if year > 0 {
		q.Set("from", strconv.Itoa(year-1))
		q.Set("to", strconv.Itoa(year+waybackYearsAfter))
	}
	var rows [][]string
	if err := wb.c.getJSON(ctx, wb.cdxHost+"/cdx/search/cdx?"+q.Encode(), nil, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	ts, okT := col["timestamp"]
	orig, okO := col["original"]
	if !okT || !okO {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "wayback: cdx header %q lacks timestamp/original", rows[0])
	}
	field := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var out []fulltext.Candidate
	for _, row := range rows[1:] {
		if len(row) == 0 {
			break // a resume key follows
		}
		if len(row) != len(rows[0]) {
			return nil, fulltext.Errorf(fulltext.CodeResolverError, "wayback: cdx row %q does not match header %q", row, rows[0])
		}
		if s := field(row, "statuscode"); s != "" && s != "200" {
			continue
		}
		if m := field(row, "mimetype"); m != "" && m != "application/pdf" {
			continue
		}
		if !isTimestamp(row[ts]) {
			return nil, fulltext.Errorf(fulltext.CodeResolverError, "wayback: cdx timestamp %q", row[ts])
		}
		out = append(out, fulltext.Candidate{URL: rawCapture(row[ts], row[orig]), Technique: "wayback-cdx"})
	}
	return out, nil
}

// available asks the availability API for the capture closest to the
// publication year.
func (wb *Wayback) available(ctx context.Context, u string, year int) ([]fulltext.Candidate, error) {
	q := url.Values{"url": {u}}
	if year > 0 {
		q.Set("timestamp", strconv.Itoa(year)+"0101")
	}
	var ans struct {
		ArchivedSnapshots *struct {
			Closest *struct {
				Status    string `json:"status"`
				Available bool   `json:"available"`
				URL       string `json:"url"`
				Timestamp string `json:"timestamp"`
			} `json:"closest"`
		} `json:"archived_snapshots"`
	}
	if err := wb.c.getJSON(ctx, wb.availHost+"/wayback/available?"+q.Encode(), nil, &ans); err != nil {
		return nil, err
	}
	if ans.ArchivedSnapshots == nil {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "wayback: availability answer without archived_snapshots")
	}
	c := ans.ArchivedSnapshots.Closest
	if c == nil || !c.Available || c.Status != "200" {
		return nil, nil
	}
	if !isTimestamp(c.Timestamp) {
		return nil, fulltext.Errorf(fulltext.CodeResolverError, "wayback: availability timestamp %q", c.Timestamp)
	}
	return []fulltext.Candidate{{URL: rawCapture(c.Timestamp, u), Technique: "wayback-available", Landing: !looksLikeFile(u)}}, nil
}

// rawCapture is the id_ replay URL: the original bytes, no banner.
func rawCapture(timestamp, original string) string {
	return waybackReplay + "/web/" + timestamp + "id_/" + original
}

func isTimestamp(s string) bool {
	if len(s) == 0 || len(s) > 14 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// recordURLs are the http(s) URLs named by the work's OpenAlex record:
// pdf_urls, then oa_url, then landing pages (doi.org URLs excluded: their
// captures are redirects).
func recordURLs(w fulltext.Work) []string {
	if len(w.Record) == 0 {
		return nil
	}
	var rec oaWork
	if json.Unmarshal(w.Record, &rec) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		l := strings.ToLower(u)
		if (!strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://")) || seen[u] ||
			strings.Contains(l, "://doi.org/") || strings.Contains(l, "://dx.doi.org/") {
			return
		}
		seen[u] = true
		out = append(out, u)
	}
	locs := rec.allLocations()
	for _, l := range locs {
		add(l.PDFURL)
	}
	add(rec.OpenAccess.OAURL)
	for _, l := range locs {
		add(l.LandingPageURL)
	}
	return out
}
