package source

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Query selects works from OpenAlex for planning.
type Query struct {
	// Filter is a raw OpenAlex filter expression ("a:b,c:d"); the other
	// fields are appended to it.
	Filter string
	// Topic is an OpenAlex topic id ("T10325" or its URL): topics.id:T….
	Topic string
	// YearStart and YearEnd bound publication_year (inclusive); 0 = open.
	YearStart, YearEnd int
	// OAOnly adds is_oa:true.
	OAOnly bool
	// PerPage is the page size. Defaults to 200 (with a narrow select, as
	// apis.md §1.2 recommends).
	PerPage int
}

// querySelect keeps list pages small: root-level fields only.
const querySelect = "id,doi,title,publication_year,ids,open_access,best_oa_location,primary_location,locations"

// FilterExpr returns the OpenAlex filter the query stands for.
func (q Query) FilterExpr() string {
	var parts []string
	if f := strings.Trim(strings.TrimSpace(q.Filter), ","); f != "" {
		parts = append(parts, f)
	}
	if t := strings.TrimSpace(q.Topic); t != "" {
		t = t[strings.LastIndex(t, "/")+1:]
		parts = append(parts, "topics.id:"+t)
	}
	switch {
	case q.YearStart > 0 && q.YearEnd > 0:
		parts = append(parts, fmt.Sprintf("publication_year:%d-%d", q.YearStart, q.YearEnd))
	case q.YearStart > 0:
		parts = append(parts, fmt.Sprintf("publication_year:>%d", q.YearStart-1))
	case q.YearEnd > 0:
		parts = append(parts, fmt.Sprintf("publication_year:<%d", q.YearEnd+1))
	}
	if q.OAOnly {
		parts = append(parts, "is_oa:true")
	}
	return strings.Join(parts, ",")
}

// RateLimit is what OpenAlex's X-RateLimit-* headers say about the daily
// allowance of (list) calls.
type RateLimit struct {
	Limit, Remaining int
	// Reset is how long until the allowance is renewed (0 when unknown).
	Reset time.Duration
	// ResetAt is when the allowance is renewed: the time the answer was
	// read plus Reset (zero when unknown).
	ResetAt time.Time
}

// ParseRateLimit reads X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (delta seconds, or a Unix time when larger than a
// day's worth of seconds past 2001). ok is false without a parsable
// X-RateLimit-Remaining.
func ParseRateLimit(h http.Header, now time.Time) (RateLimit, bool) {
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if err != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Remaining: rem}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && n > 0 {
		const epochFloor = 1_000_000_000 // 2001-09-09: larger values are Unix times
		if n >= epochFloor {
			rl.Reset = max(time.Unix(n, 0).Sub(now), 0).Round(time.Second)
		} else {
			rl.Reset = time.Duration(min(n, 1<<32)) * time.Second
		}
		rl.ResetAt = now.Add(rl.Reset)
	}
	return rl, true
}

// ResolveTopic turns --topic into an OpenAlex topic id: an id ("T10325"
// or its URL) is returned bare without a request; a name is searched with
// GET /topics?search=… and the best match is taken (its display name is
// returned too). No match is not-found.
func (o *OpenAlex) ResolveTopic(ctx context.Context, topic string) (id, name string, err error) {
	t := strings.TrimSpace(topic)
	if bare := t[strings.LastIndex(t, "/")+1:]; isTopicID(bare) {
		return strings.ToUpper(bare[:1]) + bare[1:], "", nil
	}
	if t == "" {
		return "", "", fulltext.Errorf(fulltext.CodeNotFound, "openalex: topic: empty name")
	}
	v := o.query()
	v.Set("search", t)
	v.Set("per_page", "5")
	r, err := o.c.fetch(ctx, http.MethodGet, o.base+"/topics?"+v.Encode(), nil, nil)
	if err != nil {
		return "", "", err
	}
	if err := o.statusError(r); err != nil {
		return "", "", err
	}
	var page struct {
		Results []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"results"`
	}
	if err := o.c.decode(r, &page); err != nil {
		return "", "", err
	}
	for _, res := range page.Results {
		if bare := res.ID[strings.LastIndex(res.ID, "/")+1:]; isTopicID(bare) {
			return bare, res.DisplayName, nil
		}
	}
	return "", "", fulltext.Errorf(fulltext.CodeNotFound, "openalex: no topic matches %q", t)
}

func isTopicID(s string) bool {
	if len(s) < 2 || (s[0] != 'T' && s[0] != 't') {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Query pages through the works matching q with cursor paging, starting at
// cursor ("" or "*" = the beginning). fn receives each non-empty page and
// the cursor of the next one ("" after the last page); persisting that
// cursor lets a restarted run resume where it stopped. Works are built with
// fulltext.ParseOpenAlexWork, so Record is kept; results without a DOI or an
// OpenAlex id are skipped. Paging stops after the last page (no next
// cursor), when fn returns an error (returned as is), or on an API error:
// credits-exhausted when the daily allowance is gone (the 429 with the
// allowance body, or X-RateLimit-Remaining: 0 on a page that has a next
// one: paging stops before the call that would be refused), the usual codes
// otherwise; a plain 429 is rate-limited.
func (o *OpenAlex) Query(ctx context.Context, q Query, cursor string, fn func(works []fulltext.Work, nextCursor string) error) error {
	filter := q.FilterExpr()
	if filter == "" {
		return fulltext.Errorf(fulltext.CodeResolverError, "openalex: query: empty filter")
	}
	if cursor == "" {
		cursor = "*"
	}
	perPage := q.PerPage
	if perPage <= 0 {
		perPage = 200
	}
	for {
		v := o.query()
		v.Set("filter", filter)
		v.Set("select", querySelect)
		v.Set("per_page", strconv.Itoa(perPage))
		v.Set("cursor", cursor)
		r, err := o.c.fetch(ctx, http.MethodGet, o.base+"/works?"+v.Encode(), nil, nil)
		if err != nil {
			return err
		}
		if err := o.statusError(r); err != nil {
			return err
		}
		var page struct {
			Meta struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"meta"`
			Results []json.RawMessage `json:"results"`
		}
		if err := o.c.decode(r, &page); err != nil {
			return err
		}
		next := ""
		if page.Meta.NextCursor != nil {
			next = *page.Meta.NextCursor
		}
		if next == cursor && len(page.Results) > 0 {
			return fulltext.Errorf(fulltext.CodeResolverError, "openalex: query: cursor did not advance")
		}
		works := make([]fulltext.Work, 0, len(page.Results))
		for _, raw := range page.Results {
			w, err := fulltext.ParseOpenAlexWork(raw)
			if err != nil {
				continue
			}
			works = append(works, w)
		}
		if len(page.Results) > 0 {
			if err := fn(works, next); err != nil {
				return err
			}
		}
		if next == "" || len(page.Results) == 0 {
			return nil
		}
		// The allowance is gone: asking for the next page would only earn
		// the daily-allowance 429. Stop cleanly; the caller holds next.
		if rl, ok := ParseRateLimit(r.header, o.c.deps.Clock.Now()); ok && rl.Remaining <= 0 {
			return &fulltext.Error{Code: fulltext.CodeCreditsExhausted, RetryAfter: rl.Reset,
				Err: fmt.Errorf("openalex: query: daily allowance spent (X-RateLimit-Remaining 0 of %d; resets in %s)", rl.Limit, rl.Reset)}
		}
		cursor = next
	}
}
