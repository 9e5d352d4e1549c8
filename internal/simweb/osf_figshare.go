package simweb

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// osfGUID is the OSF guid of generated work i: five characters.
func osfGUID(i int) string { return "s" + strconv.FormatInt(int64(36*36*36+i), 36) }

// osfFileID is the 24-hex id of the preprint's primary file.
func (wk Work) osfFileID() string { return fmt.Sprintf("5f%022x", 0x51f000+wk.n) }

func (wk Work) osfGUID() string {
	return strings.TrimPrefix(wk.IDs.DOI, "10.31219/osf.io/")
}

// osfWork finds the OSF-route work with guid.
func (s *Server) osfWork(guid string) (Work, bool) {
	wk, ok := s.world.Lookup("doi:10.31219/osf.io/" + strings.ToLower(guid))
	return wk, ok && wk.Route == RouteOSF
}

// osfWorkByFile finds the OSF-route work whose primary file is id.
func (s *Server) osfWorkByFile(id string) (Work, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "5f"), 16, 64)
	if err != nil || !strings.HasPrefix(id, "5f") {
		return Work{}, false
	}
	i := int(n - 0x51f000)
	if i < 0 || i >= len(s.world.Works) || s.world.Works[i].Route != RouteOSF || s.world.Works[i].osfFileID() != id {
		return Work{}, false
	}
	return s.world.Works[i], true
}

func osfJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/vnd.api+json; charset=utf-8", v)
}

// osfGenerated serves the OSF-route works: api.osf.io/v2/preprints/{guid}/
// and /v2/files/{id}/ (JSON:API, shaped like osf_preprint.json and
// osf_file.json), osf.io/{guid}/download → osf.io/download/{id}/ →
// files.osf.io/v1/resources/{guid}/providers/osfstorage/{id} (the PDF). It
// reports whether it answered.
func (s *Server) osfGenerated(w http.ResponseWriter, r *http.Request, host string) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case host == "api.osf.io" && len(parts) == 3 && parts[0] == "v2" && parts[1] == "preprints":
		wk, ok := s.osfWork(parts[2])
		if !ok {
			return false
		}
		guid, file := wk.osfGUID(), wk.osfFileID()
		osfJSON(w, http.StatusOK, map[string]any{
			"data": map[string]any{
				"id": guid, "type": "preprints",
				"attributes": map[string]any{
					"title": wk.Title, "description": "Preprint.", "date_published": wk.publicationDate() + "T08:00:00.000Z",
					"doi": nil, "is_published": true, "reviews_state": "accepted", "version": 1, "is_latest_version": true,
					"license_record": map[string]any{"copyright_holders": []any{}, "year": strconv.Itoa(wk.Year)},
				},
				"relationships": map[string]any{
					"primary_file": map[string]any{"links": map[string]any{"related": map[string]any{
						"href": "https://api.osf.io/v2/files/" + file + "/", "meta": map[string]any{}}}},
				},
				"links": map[string]any{
					"self": "https://api.osf.io/v2/preprints/" + guid + "/", "html": "https://osf.io/" + guid + "/",
					"preprint_doi": "https://doi.org/" + wk.IDs.DOI,
				},
			},
			"meta": map[string]any{"version": "2.20"},
		})
		return true
	case host == "api.osf.io" && len(parts) == 3 && parts[0] == "v2" && parts[1] == "files":
		wk, ok := s.osfWorkByFile(parts[2])
		if !ok {
			return false
		}
		file := wk.osfFileID()
		osfJSON(w, http.StatusOK, map[string]any{
			"data": map[string]any{
				"id": file, "type": "files",
				"attributes": map[string]any{"name": fmt.Sprintf("sim-%d.pdf", wk.n), "kind": "file", "size": len(wk.PDF()),
					"materialized_path": fmt.Sprintf("/sim-%d.pdf", wk.n)},
				"links": map[string]any{"download": "https://osf.io/download/" + file + "/", "self": "https://api.osf.io/v2/files/" + file + "/"},
			},
			"meta": map[string]any{"version": "2.20"},
		})
		return true
	case host == "osf.io" && len(parts) == 2 && parts[1] == "download":
		wk, ok := s.osfWork(parts[0])
		if !ok {
			return false
		}
		http.Redirect(w, r, "https://osf.io/download/"+wk.osfFileID()+"/", http.StatusFound)
		return true
	case host == "osf.io" && len(parts) == 2 && parts[0] == "download":
		wk, ok := s.osfWorkByFile(parts[1])
		if !ok {
			return false
		}
		http.Redirect(w, r, "https://files.osf.io/v1/resources/"+wk.osfGUID()+"/providers/osfstorage/"+wk.osfFileID()+"?action=download", http.StatusFound)
		return true
	case host == "files.osf.io" && len(parts) == 6 && parts[0] == "v1" && parts[4] == "osfstorage":
		wk, ok := s.osfWorkByFile(parts[5])
		if !ok || wk.osfGUID() != parts[2] {
			return false
		}
		servePDF(w, r, fmt.Sprintf("sim-%d.pdf", wk.n), wk.PDF())
		return true
	}
	return false
}

// figshareID is the Figshare article id of a Figshare-route work; its file
// id is figshareID + 500000000.
func (wk Work) figshareID() int { return 99910000 + wk.n }

func (s *Server) figshareWork(id int) (Work, bool) {
	i := id - 99910000
	if i < 0 || i >= len(s.world.Works) {
		return Work{}, false
	}
	wk := s.world.Works[i]
	return wk, wk.Route == RouteFigshare || wk.Route == RouteFigshareSupplement
}

// figshareArticle is the article object of a Figshare-route work (shaped
// like figshare_article.json): the article itself as a "journal
// contribution", or its supplementary material as a "dataset".
func figshareArticle(wk Work) map[string]any {
	id := wk.figshareID()
	title, typ, typeID, file := wk.Title, "journal contribution", 6, fmt.Sprintf("sim-%d.pdf", wk.n)
	size := len(wk.PDF())
	if wk.Route == RouteFigshareSupplement {
		title, typ, typeID, file = "Supplementary material for: "+wk.Title, "dataset", 3, fmt.Sprintf("sim-%d-S1.pdf", wk.n)
		size = len(wk.supplementPDF())
	}
	fileID := id + 500000000
	return map[string]any{
		"id": id, "title": title, "doi": fmt.Sprintf("10.6084/m9.figshare.%d.v1", id), "handle": "",
		"url":             fmt.Sprintf("https://api.figshare.com/v2/articles/%d", id),
		"url_public_html": fmt.Sprintf("https://figshare.com/articles/%s/sim/%d", strings.ReplaceAll(typ, " ", "_"), id),
		"url_public_api":  fmt.Sprintf("https://api.figshare.com/v2/articles/%d", id),
		"published_date":  wk.publicationDate() + "T08:00:00Z", "defined_type": typeID, "defined_type_name": typ,
		"resource_doi": wk.IDs.DOI, "resource_title": wk.Title, "is_public": true, "version": 1,
		"license": map[string]any{"value": 1, "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
		"files": []any{map[string]any{
			"id": fileID, "name": file, "size": size, "is_link_only": false,
			"download_url": fmt.Sprintf("https://ndownloader.figshare.com/files/%d", fileID),
			"supplied_md5": "", "computed_md5": "", "mimetype": "application/pdf",
		}},
	}
}

// supplementPDF is the supplementary material of a figshare-supplement
// work: a valid PDF, but not the article.
func (wk Work) supplementPDF() []byte {
	h := fnv.New64a()
	fmt.Fprintf(h, "supplement|%d|%s", wk.n, wk.Title)
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(wk.n)))
	return buildPDF("Supplementary material: tables S1-S4", "Dataset accompanying a journal article", rng, 8<<10)
}

// figshareGenerated serves the Figshare-route works: POST
// /v2/articles/search (resource_doi, or search_for ":doi: …"), GET
// /v2/articles?doi=…, GET /v2/articles/{id} and
// ndownloader.figshare.com/files/{id}. It reports whether it answered.
func (s *Server) figshareGenerated(w http.ResponseWriter, r *http.Request) bool {
	host := hostOf(r)
	switch {
	case host == "api.figshare.com" && r.URL.Path == "/v2/articles/search" && r.Method == http.MethodPost:
		var q struct {
			ResourceDOI string `json:"resource_doi"`
			DOI         string `json:"doi"`
			SearchFor   string `json:"search_for"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&q); err != nil {
			writeJSON(w, http.StatusBadRequest, "", map[string]any{"message": "Invalid JSON body", "code": "BadRequest"})
			return true
		}
		doi := cmpOr(q.ResourceDOI, q.DOI)
		if doi == "" {
			if _, after, ok := strings.Cut(q.SearchFor, ":doi:"); ok {
				doi = strings.TrimSpace(after)
			}
		}
		hits := []any{}
		if wk, ok := s.world.Lookup("doi:" + doi); ok && (wk.Route == RouteFigshare || wk.Route == RouteFigshareSupplement) {
			a := figshareArticle(wk)
			delete(a, "files")
			delete(a, "license")
			hits = append(hits, a)
		}
		writeJSON(w, http.StatusOK, "", hits)
		return true
	case host == "api.figshare.com" && strings.HasPrefix(r.URL.Path, "/v2/articles/"):
		id, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/articles/"), "/"))
		if err != nil {
			return false
		}
		wk, ok := s.figshareWork(id)
		if !ok {
			return false
		}
		writeJSON(w, http.StatusOK, "", figshareArticle(wk))
		return true
	case host == "ndownloader.figshare.com" && strings.HasPrefix(r.URL.Path, "/files/"):
		id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/files/"))
		if err != nil {
			return false
		}
		wk, ok := s.figshareWork(id - 500000000)
		if !ok {
			return false
		}
		if wk.Route == RouteFigshareSupplement {
			servePDF(w, r, fmt.Sprintf("sim-%d-S1.pdf", wk.n), wk.supplementPDF())
		} else {
			servePDF(w, r, fmt.Sprintf("sim-%d.pdf", wk.n), wk.PDF())
		}
		return true
	}
	return false
}
