package source

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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

// Query pages through the works matching q with cursor paging, starting at
// cursor ("" or "*" = the beginning). fn receives each non-empty page and
// the cursor of the next one ("" after the last page); persisting that
// cursor lets a restarted run resume where it stopped. Works are built with
// fulltext.ParseOpenAlexWork, so Record is kept; results without a DOI or an
// OpenAlex id are skipped. Paging stops after the last page (no next
// cursor), when fn returns an error (returned as is), or on an API error:
// credits-exhausted when the daily allowance is gone, the usual codes
// otherwise.
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
		cursor = next
	}
}
