package simweb

import (
	"fmt"
	"net/http"
	"strings"
)

func (wk Work) zenodoID() int { return 9991000 + wk.n }
func (wk Work) halID() string { return fmt.Sprintf("hal-0%d", 9991000+wk.n) }

// zenodo serves /api/records?q=… (hits whose related identifier is the
// DOI), /api/records/{id} and /api/records/{id}/files/{key}/content.
func (s *Server) zenodo(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if p == "/api/records" {
		var hits []any
		if wk, ok := s.workByQuery(r.URL.Query().Get("q"), RouteZenodo); ok {
			hits = append(hits, zenodoRecord(wk))
		}
		writeJSON(w, http.StatusOK, "", map[string]any{"hits": map[string]any{"hits": append([]any{}, hits...), "total": len(hits)}, "aggregations": map[string]any{}})
		return
	}
	var id int
	var key string
	if _, err := fmt.Sscanf(p, "/api/records/%d", &id); err == nil {
		n := id - 9991000
		if n >= 0 && n < len(s.world.Works) && s.world.Works[n].Route == RouteZenodo {
			wk := s.world.Works[n]
			switch rest := strings.TrimPrefix(p, fmt.Sprintf("/api/records/%d", id)); {
			case rest == "":
				writeJSON(w, http.StatusOK, "", zenodoRecord(wk))
				return
			case strings.HasPrefix(rest, "/files/") && strings.HasSuffix(rest, "/content"):
				key = strings.TrimSuffix(strings.TrimPrefix(rest, "/files/"), "/content")
				if key == fmt.Sprintf("sim-%d.pdf", wk.n) {
					servePDF(w, r, key, wk.PDF())
					return
				}
			}
		}
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"status": 404, "message": "The persistent identifier does not exist."})
}

func zenodoRecord(wk Work) map[string]any {
	id := wk.zenodoID()
	key := fmt.Sprintf("sim-%d.pdf", wk.n)
	self := fmt.Sprintf("https://zenodo.org/api/records/%d", id)
	return map[string]any{
		"id": id, "recid": fmt.Sprint(id), "doi": fmt.Sprintf("10.5281/zenodo.%d", id), "title": wk.Title,
		"metadata": map[string]any{
			"title": wk.Title, "doi": fmt.Sprintf("10.5281/zenodo.%d", id), "publication_date": wk.publicationDate(),
			"access_right": "open", "resource_type": map[string]any{"type": "publication", "subtype": "preprint"},
			"related_identifiers": []any{map[string]any{"identifier": wk.IDs.DOI, "relation": "isVersionOf", "scheme": "doi"}},
			"license":             map[string]any{"id": "cc-by-4.0"},
		},
		"links": map[string]any{"self": self, "self_html": fmt.Sprintf("https://zenodo.org/records/%d", id)},
		"files": []any{map[string]any{"id": fmt.Sprintf("%08x-0000-4000-8000-000000000000", id), "key": key, "size": len(wk.PDF()),
			"links": map[string]any{"self": self + "/files/" + key + "/content"}}},
		"status": "published",
	}
}

// hal serves the HAL search API and hal.science/{halId}/document → file.
func (s *Server) hal(w http.ResponseWriter, r *http.Request, host string) {
	if host == "api.archives-ouvertes.fr" && strings.HasPrefix(r.URL.Path, "/search") {
		var docs []any
		if wk, ok := s.workByQuery(r.URL.Query().Get("q"), RouteHAL); ok {
			docs = append(docs, map[string]any{
				"halId_s": wk.halID(), "docid": fmt.Sprint(9991000 + wk.n), "doiId_s": wk.IDs.DOI, "title_s": []any{wk.Title},
				"publicationDateY_i": wk.Year, "docType_s": "ART", "openAccess_bool": true,
				"uri_s":      "https://hal.science/" + wk.halID(),
				"fileMain_s": "https://hal.science/" + wk.halID() + "/document",
				"files_s":    []any{fmt.Sprintf("https://hal.science/%s/file/sim-%d.pdf", wk.halID(), wk.n)},
				"fileType_s": []any{"file"},
				"licence_s":  "http://creativecommons.org/licenses/by/",
			})
		}
		writeJSON(w, http.StatusOK, "application/json; charset=UTF-8", map[string]any{
			"response": map[string]any{"numFound": len(docs), "start": 0, "numFoundExact": true, "docs": append([]any{}, docs...)}})
		return
	}
	if host == "hal.science" {
		halID, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		for _, wk := range s.world.Works {
			if wk.Route != RouteHAL || wk.halID() != halID {
				continue
			}
			file := fmt.Sprintf("sim-%d.pdf", wk.n)
			switch rest {
			case "document":
				http.Redirect(w, r, "https://hal.science/"+halID+"/file/"+file, http.StatusFound)
				return
			case "file/" + file:
				servePDF(w, r, file, wk.PDF())
				return
			}
		}
	}
	publisherNotFound(w)
}

// osf knows the cast (manifest) and the osf-route works; everything else
// is the JSON:API 404.
func (s *Server) osf(w http.ResponseWriter, r *http.Request, host string) {
	if s.osfGenerated(w, r, host) {
		return
	}
	if host == "api.osf.io" && strings.TrimSuffix(r.URL.Path, "/") == "/v2/preprints" {
		// A filtered list (e.g. filter[doi]=…): no generated work has a preprint.
		writeJSON(w, http.StatusOK, "application/vnd.api+json", map[string]any{
			"data": []any{}, "links": map[string]any{"first": nil, "last": nil, "prev": nil, "next": nil,
				"meta": map[string]any{"total": 0, "per_page": 10}}, "meta": map[string]any{"version": "2.0"}})
		return
	}
	if host == "api.osf.io" {
		writeJSON(w, http.StatusNotFound, "application/vnd.api+json", map[string]any{
			"errors": []any{map[string]any{"detail": "Not found."}}, "meta": map[string]any{"version": "2.0"}})
		return
	}
	publisherNotFound(w)
}

// figshare knows the cast's supplement (manifest) and the figshare-route
// works.
func (s *Server) figshare(w http.ResponseWriter, r *http.Request) {
	if s.figshareGenerated(w, r) {
		return
	}
	if r.URL.Path == "/v2/articles/search" || (r.URL.Path == "/v2/articles" && r.URL.Query().Get("doi") != "") {
		writeJSON(w, http.StatusOK, "", []any{})
		return
	}
	writeJSON(w, http.StatusNotFound, "", map[string]any{"message": "Entity not found: article", "code": "EntityNotFound"})
}
