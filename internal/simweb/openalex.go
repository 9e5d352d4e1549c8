package simweb

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func openAlexError(w http.ResponseWriter, status int, short, msg string) {
	writeJSON(w, status, "", map[string]string{"error": short, "message": msg})
}

// openalex serves api.openalex.org: /works/{id} in every id form of
// apis.md §1.1 and /works?filter=…&cursor=… over the whole world.
// api_key and mailto are accepted, never required.
func (s *Server) openalex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		openAlexError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "only GET is supported")
		return
	}
	q := r.URL.Query()
	sel, err := parseSelect(q.Get("select"))
	if err != nil {
		openAlexError(w, http.StatusBadRequest, "Invalid query parameters error.", err.Error())
		return
	}
	if !s.spendOpenAlexCredit(w, isOpenAlexList(r.URL.Path)) {
		return
	}
	switch {
	case r.URL.Path == "/topics" || r.URL.Path == "/topics/":
		s.openalexTopics(w, q)
	case strings.HasPrefix(r.URL.Path, "/topics/"):
		s.openalexTopic(w, strings.TrimPrefix(r.URL.Path, "/topics/"))
	case r.URL.Path == "/works" || r.URL.Path == "/works/":
		s.openalexList(w, q, sel)
	case strings.HasPrefix(r.URL.Path, "/works/"):
		s.openalexWork(w, r, strings.TrimPrefix(r.URL.Path, "/works/"), sel)
	default:
		openAlexError(w, http.StatusNotFound, "Not Found", "The requested URL was not found on the server.")
	}
}

// openalexWork answers one work. A bare DOI (the slash splits the path)
// is 404, as on the real service.
func (s *Server) openalexWork(w http.ResponseWriter, r *http.Request, id string, sel []string) {
	var ref string
	lower := strings.ToLower(id)
	switch {
	case strings.HasPrefix(lower, "doi:"), strings.HasPrefix(lower, "https://doi.org/"), strings.HasPrefix(lower, "http://doi.org/"),
		strings.HasPrefix(lower, "pmid:"), strings.HasPrefix(lower, "pmcid:"), strings.HasPrefix(lower, "https://openalex.org/"):
		ref = id
		if after, ok := strings.CutPrefix(lower, "pmcid:"); ok {
			ref = after
			if !strings.HasPrefix(ref, "pmc") {
				ref = "PMC" + ref
			}
		}
	case !strings.Contains(id, "/") && len(id) > 1 && (id[0] == 'W' || id[0] == 'w'):
		ref = id
	}
	wk, ok := Work{}, false
	if ref != "" {
		wk, ok = s.world.Lookup(ref)
	}
	if !ok || s.oaRecords[wk.n] == nil {
		openAlexError(w, http.StatusNotFound, "Not Found", fmt.Sprintf("Work %s not found", id))
		return
	}
	if sel == nil && wk.Route == RouteCast {
		writeJSON(w, http.StatusOK, "", sample([]string{"openalex_work_gold.json", "openalex_work.json", "openalex_work_closed.json"}[wk.n]))
		return
	}
	writeJSON(w, http.StatusOK, "", project(s.oaRecords[wk.n], sel))
}

var rootFields = []string{"id", "doi", "title", "display_name", "publication_year", "publication_date", "language", "type",
	"indexed_in", "ids", "primary_location", "best_oa_location", "locations", "locations_count", "open_access",
	"authorships", "biblio", "has_fulltext", "cited_by_count", "is_retracted", "is_paratext", "primary_topic",
	"topics", "concepts", "updated_date", "created_date"}

// parseSelect checks select=: root-level fields only.
func parseSelect(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(rootFields, f) {
			if strings.Contains(f, ".") {
				//nolint:staticcheck // ST1005: the text is OpenAlex's own error message, sent verbatim
				return nil, fmt.Errorf("select: %s is not a valid select field. Only root-level fields can be selected.", f)
			}
			//nolint:staticcheck // ST1005: the text is OpenAlex's own error message, sent verbatim
			return nil, fmt.Errorf("select: %s is not a valid select field.", f)
		}
		out = append(out, f)
	}
	return out, nil
}

func project(rec map[string]any, sel []string) map[string]any {
	if sel == nil {
		return rec
	}
	out := make(map[string]any, len(sel))
	for _, f := range sel {
		if v, ok := rec[f]; ok {
			out[f] = v
		}
	}
	return out
}

// openalexList serves /works with filter, search, cursor and page paging.
func (s *Server) openalexList(w http.ResponseWriter, q url.Values, sel []string) {
	perPage := 25
	if v := cmpOr(q.Get("per_page"), q.Get("per-page")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			openAlexError(w, http.StatusBadRequest, "Invalid query parameters error.", "per-page: must be an integer between 1 and 200")
			return
		}
		perPage = n
	}
	filters, err := parseFilters(q.Get("filter"))
	if err != nil {
		openAlexError(w, http.StatusBadRequest, "Invalid query parameters error.", err.Error())
		return
	}
	search := strings.ToLower(strings.TrimSpace(q.Get("search")))
	var hits []map[string]any
	for _, rec := range s.oaRecords {
		if rec == nil || !matchAll(rec, filters) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(fmt.Sprint(rec["title"])), search) {
			continue
		}
		hits = append(hits, rec)
	}
	meta := map[string]any{"count": len(hits), "db_response_time_ms": 7, "page": nil, "per_page": perPage,
		"next_cursor": nil, "groups_count": nil, "cost_usd": 0.0001}
	start := 0
	if c := q.Get("cursor"); c != "" {
		if c != "*" {
			off, ok := decodeCursor(c)
			if !ok {
				openAlexError(w, http.StatusBadRequest, "Invalid query parameters error.", "cursor: the cursor is not valid")
				return
			}
			start = off
		}
	} else {
		page := 1
		if v := q.Get("page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n*perPage > 10000 {
				openAlexError(w, http.StatusBadRequest, "Invalid query parameters error.", "page: maximum results size of 10,000 records is exceeded")
				return
			}
			page = n
		}
		meta["page"] = page
		start = (page - 1) * perPage
	}
	results := []any{}
	for i := start; i < len(hits) && i < start+perPage; i++ {
		results = append(results, project(hits[i], sel))
	}
	if q.Get("cursor") != "" && len(results) > 0 {
		meta["next_cursor"] = encodeCursor(start + len(results))
	}
	writeJSON(w, http.StatusOK, "", map[string]any{"meta": meta, "results": results, "group_by": []any{}})
}

func encodeCursor(off int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "[%d, 'simweb']", off))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	var off int
	if _, err := fmt.Sscanf(string(b), "[%d, 'simweb']", &off); err != nil || off < 0 {
		return 0, false
	}
	return off, true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type filter struct {
	attr   string
	values []string // alternatives (OR)
}

// filterAttrs maps each supported filter to the record path it reads.
var filterAttrs = map[string]string{
	"is_oa": "open_access.is_oa", "open_access.is_oa": "open_access.is_oa",
	"oa_status": "open_access.oa_status", "open_access.oa_status": "open_access.oa_status",
	"open_access.any_repository_has_fulltext": "open_access.any_repository_has_fulltext",
	"publication_year":                        "publication_year", "type": "type", "has_fulltext": "has_fulltext",
	"has_doi": "has:doi", "has_pmid": "has:ids.pmid", "has_pmcid": "has:ids.pmcid",
	"doi": "doi", "ids.openalex": "id", "openalex": "id", "openalex_id": "id", "ids.pmcid": "ids.pmcid", "ids.pmid": "ids.pmid",
	"from_publication_date": "from:publication_date", "to_publication_date": "to:publication_date",
	"primary_topic.id": "primary_topic.id", "topics.id": "primary_topic.id",
	"primary_topic.field.id": "primary_topic.field.id", "primary_topic.subfield.id": "primary_topic.subfield.id",
	"primary_topic.domain.id":  "primary_topic.domain.id",
	"best_oa_location.version": "best_oa_location.version",
}

func parseFilters(v string) ([]filter, error) {
	var out []filter
	if v == "" {
		return nil, nil
	}
	for part := range strings.SplitSeq(v, ",") {
		attr, val, ok := strings.Cut(part, ":")
		if !ok || val == "" {
			return nil, fmt.Errorf("filter: %q is not of the form attribute:value", part)
		}
		attr = strings.ToLower(strings.TrimSpace(attr))
		if _, ok := filterAttrs[attr]; !ok {
			return nil, fmt.Errorf("filter: %s is not a valid field. Valid fields are underscore or hyphenated versions of: %s", attr, strings.Join(sortedKeys(filterAttrs), ", "))
		}
		out = append(out, filter{attr: attr, values: strings.Split(val, "|")})
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func matchAll(rec map[string]any, fs []filter) bool {
	for _, f := range fs {
		if !matchFilter(rec, f) {
			return false
		}
	}
	return true
}

func matchFilter(rec map[string]any, f filter) bool {
	path := filterAttrs[f.attr]
	for _, v := range f.values {
		if matchValue(rec, path, strings.ToLower(strings.TrimSpace(v))) {
			return true
		}
	}
	return false
}

func matchValue(rec map[string]any, path, v string) bool {
	if neg, ok := strings.CutPrefix(v, "!"); ok {
		return !matchValue(rec, path, neg)
	}
	switch {
	case strings.HasPrefix(path, "has:"):
		got := lookupPath(rec, strings.TrimPrefix(path, "has:"))
		return (got != nil && got != "") == (v == "true")
	case strings.HasPrefix(path, "from:"):
		return fmt.Sprint(lookupPath(rec, strings.TrimPrefix(path, "from:"))) >= v
	case strings.HasPrefix(path, "to:"):
		return fmt.Sprint(lookupPath(rec, strings.TrimPrefix(path, "to:"))) <= v
	}
	got := lookupPath(rec, path)
	if path == "publication_year" {
		year, err := strconv.Atoi(fmt.Sprint(got))
		if err != nil {
			return false
		}
		return matchNumber(year, v)
	}
	gs := strings.ToLower(fmt.Sprint(got))
	if got == nil {
		gs = "null"
	}
	// Ids are URLs in records and bare in filters.
	gs = gs[strings.LastIndex(gs, "/")+1:]
	switch path {
	case "doi":
		gs = strings.TrimPrefix(strings.ToLower(fmt.Sprint(got)), "https://doi.org/")
		v = strings.TrimPrefix(v, "https://doi.org/")
	default:
		v = v[strings.LastIndex(v, "/")+1:]
	}
	return gs == v
}

func matchNumber(n int, v string) bool {
	switch {
	case strings.HasPrefix(v, ">"):
		m, err := strconv.Atoi(v[1:])
		return err == nil && n > m
	case strings.HasPrefix(v, "<"):
		m, err := strconv.Atoi(v[1:])
		return err == nil && n < m
	case strings.Contains(v, "-"):
		lo, hi, _ := strings.Cut(v, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		return err1 == nil && err2 == nil && a <= n && n <= b
	}
	m, err := strconv.Atoi(v)
	return err == nil && n == m
}

func lookupPath(rec map[string]any, path string) any {
	var cur any = rec
	for seg := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	if n, ok := cur.(json.Number); ok {
		return n.String()
	}
	return cur
}
