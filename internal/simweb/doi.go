package simweb

import (
	"html"
	"net/http"
	"strings"
)

var castLanding = []string{
	"https://journals.example.org/jsim/article/10.5555/jsim.2021.0042",
	"https://www.example-academic.com/doi/10.5555/tcs.2019.117",
	"https://www.example-history-journals.com/doi/10.5555/hist.1998.003",
}

// resolveURL is where doi.org sends the work's DOI.
func (wk Work) resolveURL() string {
	if wk.Route == RouteCast {
		return castLanding[wk.n]
	}
	return wk.landingURL()
}

// doiOrg serves doi.org: /{doi} → 302 to the landing page, the handle API
// /api/handles/{doi} (a %2F slash is 404) and /ra/{doi}.
func (s *Server) doiOrg(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case strings.HasPrefix(p, "api/handles/"):
		if strings.Contains(r.URL.EscapedPath(), "%2F") || strings.Contains(r.URL.EscapedPath(), "%2f") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		doi := pathDOI(strings.TrimPrefix(p, "api/handles/"))
		wk, ok := s.world.Lookup("doi:" + doi)
		if !ok {
			writeJSON(w, http.StatusNotFound, "application/json;charset=UTF-8", map[string]any{"responseCode": 100, "handle": doi})
			return
		}
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{
			"responseCode": 1, "handle": doi,
			"values": []any{
				map[string]any{"index": 1, "type": "URL", "data": map[string]any{"format": "string", "value": wk.resolveURL()},
					"ttl": 86400, "timestamp": "2021-03-10T09:12:44Z"},
				map[string]any{"index": 100, "type": "HS_ADMIN", "data": map[string]any{"format": "admin",
					"value": map[string]any{"handle": "0.na/10.5555", "index": 200, "permissions": "111111110010"}},
					"ttl": 86400, "timestamp": "2021-03-10T09:12:44Z"},
			},
		})
	case strings.HasPrefix(p, "ra/"):
		doi := pathDOI(strings.TrimPrefix(p, "ra/"))
		if _, ok := s.world.Lookup("doi:" + doi); !ok {
			writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", []any{map[string]any{"DOI": doi, "status": "DOI does not exist"}})
			return
		}
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", []any{map[string]any{"DOI": doi, "RA": "Crossref"}})
	default:
		doi := pathDOI(p)
		wk, ok := s.world.Lookup("doi:" + doi)
		if !ok {
			page := strings.ReplaceAll(string(sample("doi_notfound.html")), "10.5555/does-not-exist.0000", html.EscapeString(doi))
			writeText(w, http.StatusNotFound, "text/html;charset=utf-8", page)
			return
		}
		http.Redirect(w, r, wk.resolveURL(), http.StatusFound)
	}
}
