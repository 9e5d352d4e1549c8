package simweb

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// urlKey normalises a URL the way the Wayback index compares them:
// scheme, "www.", default ports and a trailing slash do not matter.
func urlKey(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	for _, p := range []string{"https://", "http://"} {
		u = strings.TrimPrefix(u, p)
	}
	u = strings.TrimPrefix(u, "www.")
	if host, rest, ok := strings.Cut(u, "/"); ok {
		host = strings.TrimSuffix(strings.TrimSuffix(host, ":80"), ":443")
		u = host + "/" + rest
	}
	return strings.TrimSuffix(u, "/")
}

// waybackWork finds the RouteWayback work with a capture of u: its dead
// PDF URL, its landing page or its doi.org URL (each archived as the PDF).
func (s *Server) waybackWork(u string) (Work, bool) {
	k := urlKey(u)
	if len(s.world.Works) > 2 {
		// C's PDF was archived; so, as the PDF, were its doi.org URL, its
		// landing page and its publisher PDF link (all dead or walled now).
		for _, u := range []string{castCOriginal, "https://doi.org/10.5555/hist.1998.003", castLanding[2],
			"https://www.example-history-journals.com/doi/pdf/10.5555/hist.1998.003"} {
			if k == urlKey(u) {
				return s.world.Works[2], true
			}
		}
	}
	for _, wk := range s.world.Works {
		if wk.Route != RouteWayback {
			continue
		}
		if k == urlKey(wk.deadPDFURL()) || k == urlKey(wk.landingURL()) || k == urlKey("https://doi.org/"+wk.IDs.DOI) {
			return wk, true
		}
	}
	return Work{}, false
}

// castCOriginal is the dead URL of C's only copy (apis.md §0.1).
const castCOriginal = "http://www.example-history.org/papers/hanse1998.pdf"

func (wk Work) captureTimestamp() string {
	if wk.Route == RouteCast {
		return "20050314093012"
	}
	return fmt.Sprintf("%04d%02d15120000", min(wk.Year+1, 2025), 1+wk.n%12)
}

// wayback serves archive.org/wayback/available, the CDX API and raw
// (id_) and replay captures on web.archive.org.
func (s *Server) wayback(w http.ResponseWriter, r *http.Request, host string) {
	q := r.URL.Query()
	p := r.URL.Path
	switch {
	case host == "archive.org" && p == "/wayback/available":
		out := map[string]any{"url": q.Get("url"), "archived_snapshots": map[string]any{}}
		if ts := q.Get("timestamp"); ts != "" {
			out["timestamp"] = ts
		}
		if wk, ok := s.waybackWork(q.Get("url")); ok {
			ts := wk.captureTimestamp()
			out["archived_snapshots"] = map[string]any{"closest": map[string]any{"status": "200", "available": true,
				"url": "http://web.archive.org/web/" + ts + "/" + q.Get("url"), "timestamp": ts}}
		}
		writeJSON(w, http.StatusOK, "", out)
	case host == "web.archive.org" && p == "/cdx/search/cdx":
		s.cdx(w, q)
	case host == "web.archive.org" && strings.HasPrefix(p, "/web/"):
		ts, orig, ok := strings.Cut(strings.TrimPrefix(p, "/web/"), "/")
		raw := strings.HasSuffix(ts, "id_")
		ts = strings.TrimSuffix(ts, "id_")
		wk, found := s.waybackWork(orig)
		if !ok || !found {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<html><head><title>Wayback Machine</title></head><body><p>Hrm. The Wayback Machine has not archived that URL.</p></body></html>")
			return
		}
		if ts != wk.captureTimestamp() {
			suffix := ""
			if raw {
				suffix = "id_"
			}
			http.Redirect(w, r, "https://web.archive.org/web/"+wk.captureTimestamp()+suffix+"/"+orig, http.StatusFound)
			return
		}
		if !raw {
			writeText(w, http.StatusOK, "text/html; charset=utf-8", "<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body><div id=\"wm-ipp\">Wayback toolbar</div><iframe id=\"playback\" src=\"https://web.archive.org/web/"+ts+"id_/"+orig+"\"></iframe></body></html>")
			return
		}
		w.Header().Set("Memento-Datetime", "Mon, 15 Jan 2024 12:00:00 GMT")
		w.Header().Set("X-Archive-Orig-Content-Type", "application/pdf")
		w.Header().Set("Link", "<"+orig+`>; rel="original"`)
		servePDF(w, r, "", wk.PDF())
	default:
		publisherNotFound(w)
	}
}

var cdxFields = []string{"urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"}

func (s *Server) cdx(w http.ResponseWriter, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	fields := cdxFields
	if fl := get("fl"); fl != "" {
		fields = strings.Split(fl, ",")
	}
	var rows [][]string
	if wk, ok := s.waybackWork(get("url")); ok {
		vals := map[string]string{
			"urlkey": urlKey(get("url")), "timestamp": wk.captureTimestamp(), "original": get("url"),
			"mimetype": "application/pdf", "statuscode": "200", "digest": fmt.Sprintf("SIMWEB%026d", wk.n),
			"length": strconv.Itoa(len(wk.PDF()) / 2),
		}
		row := make([]string, len(fields))
		keep := true
		for i, f := range fields {
			row[i] = vals[f]
		}
		for _, f := range q["filter"] {
			k, v, _ := strings.Cut(strings.TrimPrefix(f, "!"), ":")
			if (vals[k] == v) == strings.HasPrefix(f, "!") {
				keep = false
			}
		}
		if keep {
			rows = append(rows, row)
		}
	}
	if get("output") != "json" {
		var b strings.Builder
		for _, row := range rows {
			b.WriteString(strings.Join(row, " ") + "\n")
		}
		writeText(w, http.StatusOK, "text/plain", b.String())
		return
	}
	if len(rows) == 0 {
		writeJSON(w, http.StatusOK, "", []byte("[]"))
		return
	}
	out := []any{fields}
	for _, row := range rows {
		out = append(out, row)
	}
	writeJSON(w, http.StatusOK, "", out)
}

var quotedDOIRe = regexp.MustCompile(`(?i)(10\.\d{4,9}/[^"\s&)]+)`)

// workByQuery finds the generated work whose DOI a search query names.
func (s *Server) workByQuery(q string, route Route) (Work, bool) {
	m := quotedDOIRe.FindStringSubmatch(q)
	if m == nil {
		return Work{}, false
	}
	wk, ok := s.world.Lookup("doi:" + m[1])
	return wk, ok && wk.Route == route
}

// semanticScholar serves /graph/v1/paper/{id} (DOI:, ARXIV:, PMCID:…) and
// POST /graph/v1/paper/batch.
func (s *Server) semanticScholar(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/graph/v1/paper/batch" && r.Method == http.MethodPost {
		var req struct {
			IDs []string `json:"ids"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, "", map[string]any{"error": "Unacceptable request body"})
			return
		}
		out := make([]any, len(req.IDs))
		for i, id := range req.IDs {
			if wk, ok := s.s2Work(id); ok {
				out[i] = s2Paper(wk)
			}
		}
		writeJSON(w, http.StatusOK, "", out)
		return
	}
	id := strings.TrimPrefix(p, "/graph/v1/paper/")
	wk, ok := s.s2Work(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, "", map[string]any{"error": "Paper with id " + id + " not found"})
		return
	}
	writeJSON(w, http.StatusOK, "", s2Paper(wk))
}

func (s *Server) s2Work(id string) (Work, bool) {
	kind, val, ok := strings.Cut(id, ":")
	if !ok {
		return Work{}, false
	}
	var wk Work
	switch strings.ToUpper(kind) {
	case "DOI":
		wk, ok = s.world.Lookup("doi:" + val)
	case "ARXIV":
		wk, ok = s.world.Lookup("arXiv:" + val)
	case "PMCID":
		wk, ok = s.world.Lookup("PMC" + strings.TrimPrefix(strings.ToUpper(val), "PMC"))
	case "PMID":
		wk, ok = s.world.Lookup("pmid:" + val)
	default:
		return Work{}, false
	}
	return wk, ok && wk.Route == RouteS2
}

func (wk Work) eprintsPDFURL() string {
	return fmt.Sprintf("https://eprints.example.edu/%d/1/sim-%d.pdf", 5000+wk.n, wk.n)
}

func s2Paper(wk Work) map[string]any {
	id := fmt.Sprintf("%040x", 0x5e+wk.n)
	return map[string]any{
		"paperId": id, "externalIds": map[string]any{"DOI": wk.IDs.DOI, "CorpusId": 299910000 + wk.n},
		"url": "https://www.semanticscholar.org/paper/" + id, "title": wk.Title, "year": wk.Year,
		"publicationDate": wk.publicationDate(), "isOpenAccess": true,
		"openAccessPdf": map[string]any{"url": wk.eprintsPDFURL(), "status": "GREEN", "license": "CCBY", "disclaimer": "Notice: simulated."},
	}
}

// core serves api.core.ac.uk/v3 (admit has checked the Bearer token) and
// the core.ac.uk/download/{id}.pdf files.
func (s *Server) core(w http.ResponseWriter, r *http.Request, host string) {
	p := r.URL.Path
	if host == "core.ac.uk" {
		var oid int
		if _, err := fmt.Sscanf(p, "/download/%d.pdf", &oid); err == nil && p == fmt.Sprintf("/download/%d.pdf", oid) {
			if n := oid - 999100000; n >= 0 && n < len(s.world.Works) && s.world.Works[n].Route == RouteCORE {
				servePDF(w, r, "", s.world.Works[n].PDF())
				return
			}
		}
		publisherNotFound(w)
		return
	}
	if p == "/v3/search/works" {
		target := "https://api.core.ac.uk/v3/search/works/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	if p == "/v3/search/works/" {
		var results []any
		if wk, ok := s.workByQuery(r.URL.Query().Get("q"), RouteCORE); ok {
			dl := fmt.Sprintf("https://core.ac.uk/download/%d.pdf", 999100000+wk.n)
			results = append(results, map[string]any{
				"id": 159991000 + wk.n, "doi": wk.IDs.DOI, "title": wk.Title, "yearPublished": wk.Year,
				"downloadUrl": dl, "sourceFulltextUrls": []any{},
				"links": []any{map[string]any{"type": "download", "url": dl},
					map[string]any{"type": "display", "url": fmt.Sprintf("https://core.ac.uk/works/%d", 159991000+wk.n)}},
			})
		}
		writeJSON(w, http.StatusOK, "", map[string]any{"totalHits": len(results), "limit": 10, "offset": 0, "scrollId": nil, "results": append([]any{}, results...)})
		return
	}
	var wid int
	if _, err := fmt.Sscanf(p, "/v3/works/%d/download", &wid); err == nil && p == fmt.Sprintf("/v3/works/%d/download", wid) {
		if n := wid - 159991000; n >= 0 && n < len(s.world.Works) && s.world.Works[n].Route == RouteCORE {
			http.Redirect(w, r, fmt.Sprintf("https://core.ac.uk/download/%d.pdf", 999100000+n), http.StatusFound)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"message": "Not found"})
}

// doaj serves /api/search/articles/{query}.
func (s *Server) doaj(w http.ResponseWriter, r *http.Request) {
	query, ok := strings.CutPrefix(r.URL.Path, "/api/search/articles/")
	if !ok {
		writeJSON(w, http.StatusNotFound, "", map[string]any{"status": "not_found", "error": "Not found"})
		return
	}
	var results []any
	if wk, ok := s.workByQuery(query, RouteDOAJ); ok {
		results = append(results, map[string]any{
			"id": fmt.Sprintf("%032x", 0xd0a+wk.n), "last_updated": "2026-01-01T00:00:00Z",
			"bibjson": map[string]any{
				"title": wk.Title, "year": fmt.Sprint(wk.Year),
				"identifier": []any{map[string]any{"id": wk.IDs.DOI, "type": "doi"}},
				"link": []any{
					map[string]any{"type": "fulltext", "url": wk.landingURL(), "content_type": "HTML"},
					map[string]any{"type": "fulltext", "url": wk.publisherPDFURL(), "content_type": "PDF"},
				},
			},
		})
	}
	writeJSON(w, http.StatusOK, "", map[string]any{"timestamp": s.now().UTC().Format("2006-01-02T15:04:05Z"),
		"page": 1, "pageSize": 10, "total": len(results), "query": query, "results": append([]any{}, results...)})
}
