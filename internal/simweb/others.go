package simweb

import (
	"fmt"
	"html"
	"net/http"
	"strings"
)

// The services below know only the cast works (answered from the samples
// by the manifest replay). For every other request they give their own
// documented "nothing here" answer, so that a generated work is never
// reachable through them.

// crossref: plain-text 404 for unknown works.
func (s *Server) crossref(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Rate-Limit-Limit", "10")
	w.Header().Set("X-Rate-Limit-Interval", "1s")
	writeText(w, http.StatusNotFound, "text/plain", "Resource not found.")
}

// europepmc: search answers hitCount 0; fullTextXML and the renderer 404.
func (s *Server) europepmc(w http.ResponseWriter, r *http.Request, host string) {
	if host == "www.ebi.ac.uk" && strings.HasSuffix(r.URL.Path, "/rest/search") {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{
			"version": "6.9", "hitCount": 0, "nextCursorMark": "*",
			"request": map[string]any{"queryString": q.Get("query"), "resultType": cmpOr(q.Get("resultType"), "lite"),
				"cursorMark": cmpOr(q.Get("cursorMark"), "*"), "pageSize": 25, "sort": "", "synonym": false},
			"resultList": map[string]any{"result": []any{}},
		})
		return
	}
	if host == "europepmc.org" {
		publisherNotFound(w)
		return
	}
	w.WriteHeader(http.StatusNotFound)
}

// ncbi: idconv error records, oa.fcgi errors, PMC pages 404.
func (s *Server) ncbi(w http.ResponseWriter, r *http.Request, host string) {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/idconv/"):
		var recs []any
		for id := range strings.SplitSeq(r.URL.Query().Get("ids"), ",") {
			if id = strings.TrimSpace(id); id != "" {
				recs = append(recs, map[string]any{"requested-id": id, "status": "error", "errmsg": "Identifier not found in PMC"})
			}
		}
		writeJSON(w, http.StatusOK, "", map[string]any{"status": "ok", "responseDate": s.now().UTC().Format("2006-01-02 15:04:05"),
			"request": r.URL.RawQuery, "records": recs})
	case strings.HasSuffix(p, "/oa/oa.fcgi"):
		id := html.EscapeString(r.URL.Query().Get("id"))
		code, msg := "idDoesNotExist", fmt.Sprintf("identifier '%s' does not exist", id)
		if wk, ok := s.world.Lookup(id); ok && wk.IDs.PMCID != "" {
			code, msg = "idIsNotOpenAccess", fmt.Sprintf("identifier '%s' is not Open Access", id)
		}
		writeText(w, http.StatusOK, "text/xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<OA><responseDate>%s</responseDate><request id="%s">https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi?id=%s</request><error code="%s">%s</error></OA>`,
			s.now().UTC().Format("2006-01-02 15:04:05"), id, id, code, msg))
	default:
		publisherNotFound(w)
	}
}

// wayback: no captures of anything but the cast's.
func (s *Server) wayback(w http.ResponseWriter, r *http.Request, host string) {
	switch {
	case host == "archive.org" && r.URL.Path == "/wayback/available":
		writeJSON(w, http.StatusOK, "", map[string]any{"url": r.URL.Query().Get("url"), "archived_snapshots": map[string]any{}})
	case host == "web.archive.org" && r.URL.Path == "/cdx/search/cdx":
		writeJSON(w, http.StatusOK, "", []any{})
	default:
		publisherNotFound(w)
	}
}

func (s *Server) semanticScholar(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/graph/v1/paper/")
	writeJSON(w, http.StatusNotFound, "", map[string]any{"error": "Paper with id " + id + " not found"})
}

// core: the API requires a Bearer token (401 without), then finds nothing.
func (s *Server) core(w http.ResponseWriter, r *http.Request, host string) {
	if host == "core.ac.uk" {
		publisherNotFound(w)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, http.StatusUnauthorized, "", map[string]any{"message": "Unauthorized: an API key is required"})
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v3/search/") {
		writeJSON(w, http.StatusOK, "", map[string]any{"totalHits": 0, "limit": 10, "offset": 0, "scrollId": nil, "results": []any{}})
		return
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"message": "Not found"})
}

func (s *Server) doaj(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/search/articles/") {
		writeJSON(w, http.StatusOK, "", map[string]any{"timestamp": s.now().UTC().Format("2006-01-02T15:04:05Z"),
			"page": 1, "pageSize": 10, "total": 0, "query": strings.TrimPrefix(r.URL.Path, "/api/search/articles/"), "results": []any{}})
		return
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"status": "not_found", "error": "Not found"})
}

func (s *Server) zenodo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/records" || r.URL.Path == "/api/records/" {
		writeJSON(w, http.StatusOK, "", map[string]any{"hits": map[string]any{"hits": []any{}, "total": 0}, "aggregations": map[string]any{}})
		return
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"status": 404, "message": "The persistent identifier does not exist."})
}

func (s *Server) hal(w http.ResponseWriter, r *http.Request, host string) {
	if host == "api.archives-ouvertes.fr" && strings.HasPrefix(r.URL.Path, "/search") {
		writeJSON(w, http.StatusOK, "application/json; charset=UTF-8", map[string]any{
			"response": map[string]any{"numFound": 0, "start": 0, "numFoundExact": true, "docs": []any{}}})
		return
	}
	publisherNotFound(w)
}

func (s *Server) osf(w http.ResponseWriter, r *http.Request, host string) {
	if host == "api.osf.io" {
		writeJSON(w, http.StatusNotFound, "application/vnd.api+json", map[string]any{
			"errors": []any{map[string]any{"detail": "Not found."}}, "meta": map[string]any{"version": "2.0"}})
		return
	}
	publisherNotFound(w)
}

func (s *Server) figshare(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, "", map[string]any{"message": "Entity not found: article", "code": "EntityNotFound"})
}
