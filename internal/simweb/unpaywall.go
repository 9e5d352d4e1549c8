package simweb

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// unpaywall serves api.unpaywall.org/v2/{doi}?email=… (admit has
// checked the email).
func (s *Server) unpaywall(w http.ResponseWriter, r *http.Request) {
	doi, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok || doi == "" {
		writeJSON(w, http.StatusNotFound, "", map[string]any{"HTTP_status_code": 404, "error": true, "message": "Not found"})
		return
	}
	if doi == "search" {
		writeJSON(w, http.StatusOK, "", map[string]any{"elapsed_seconds": 0.01, "results": []any{}})
		return
	}
	wk, found := s.world.Lookup("doi:" + doi)
	if !found {
		msg := fmt.Sprintf("'%s' is an invalid doi.  See http://doi.org/%s", doi, doi)
		writeJSON(w, http.StatusNotFound, "", map[string]any{"HTTP_status_code": 404, "error": true, "message": msg})
		return
	}
	if wk.Route == RouteCast {
		writeJSON(w, http.StatusOK, "", sample([]string{"unpaywall_gold.json", "unpaywall.json", "unpaywall_closed.json"}[wk.n]))
		return
	}
	writeJSON(w, http.StatusOK, "", wk.unpaywallRecord())
}

func (wk Work) unpaywallRecord() map[string]any {
	j := wk.journal()
	rec := map[string]any{
		"doi": wk.IDs.DOI, "doi_url": "https://doi.org/" + wk.IDs.DOI, "title": wk.Title,
		"genre": "journal-article", "is_paratext": false, "published_date": wk.publicationDate(), "year": wk.Year,
		"journal_name": j["display_name"], "journal_issns": j["issn_l"], "journal_issn_l": j["issn_l"],
		"journal_is_oa": false, "journal_is_in_doaj": false, "publisher": "Example Simulated Press",
		"is_oa": false, "oa_status": "closed", "has_repository_copy": false,
		"best_oa_location": nil, "first_oa_location": nil, "oa_locations": []any{}, "oa_locations_embargoed": []any{},
		"updated": "2026-11-01T00:00:00.000000", "data_standard": 2,
		"z_authors": []any{map[string]any{"given": "Sim", "family": fmt.Sprintf("Author%d", wk.n), "sequence": "first"}},
	}
	if wk.Route == RouteUnpaywall {
		loc := map[string]any{
			"url": wk.publisherPDFURL(), "url_for_pdf": wk.publisherPDFURL(), "url_for_landing_page": wk.landingURL(),
			"evidence": "open (via free pdf)", "license": "cc-by", "version": "publishedVersion", "host_type": "publisher",
			"is_best": true, "pmh_id": nil, "endpoint_id": nil, "repository_institution": nil,
			"oa_date": wk.publicationDate(), "updated": "2026-11-01T00:00:00.000000",
		}
		rec["is_oa"], rec["oa_status"] = true, "bronze"
		rec["best_oa_location"], rec["first_oa_location"] = loc, loc
		rec["oa_locations"] = []any{loc}
	}
	return rec
}

// pathDOI extracts a DOI from a request path remainder, decoding %2F.
func pathDOI(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	return strings.ToLower(strings.Trim(p, "/"))
}
