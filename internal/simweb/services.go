package simweb

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
)

// crossref serves api.crossref.org/works/{doi} (and /agency): a record
// with text-mining links for RouteCrossref works, plain-text 404 otherwise.
func (s *Server) crossref(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Rate-Limit-Limit", "10")
	w.Header().Set("X-Rate-Limit-Interval", "1s")
	p := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/v1"), "/works/")
	agency := strings.HasSuffix(p, "/agency")
	wk, ok := s.world.Lookup("doi:" + pathDOI(strings.TrimSuffix(p, "/agency")))
	if !ok || wk.Route == RouteCast || wk.IDs.DOI == "" {
		writeText(w, http.StatusNotFound, "text/plain", "Resource not found.")
		return
	}
	if agency {
		writeJSON(w, http.StatusOK, "", map[string]any{"status": "ok", "message-type": "work-agency", "message-version": "1.0.0",
			"message": map[string]any{"DOI": wk.IDs.DOI, "agency": map[string]any{"id": "crossref", "label": "Crossref"}}})
		return
	}
	if wk.Route != RouteCrossref {
		writeText(w, http.StatusNotFound, "text/plain", "Resource not found.")
		return
	}
	date := []any{wk.Year, 1 + wk.n%12, 1 + wk.n%28}
	msg := map[string]any{
		"DOI": wk.IDs.DOI, "URL": "https://doi.org/" + wk.IDs.DOI, "title": []any{wk.Title}, "type": "journal-article",
		"publisher": "Example Simulated Press", "container-title": []any{wk.journal()["display_name"]},
		"issued": map[string]any{"date-parts": []any{date}}, "published": map[string]any{"date-parts": []any{date}},
		"prefix": "10.5555", "member": "99999", "source": "Crossref", "is-referenced-by-count": wk.n % 40,
		"license": []any{map[string]any{"URL": "https://creativecommons.org/licenses/by/4.0/", "content-version": "vor",
			"delay-in-days": 0, "start": map[string]any{"date-parts": []any{date}}}},
		"link": []any{
			map[string]any{"URL": wk.publisherPDFURL(), "content-type": "application/pdf", "content-version": "vor", "intended-application": "text-mining"},
			map[string]any{"URL": wk.landingURL(), "content-type": "unspecified", "content-version": "vor", "intended-application": "similarity-checking"},
		},
		"resource": map[string]any{"primary": map[string]any{"URL": wk.landingURL()}},
	}
	writeJSON(w, http.StatusOK, "", map[string]any{"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": msg})
}

var (
	epmcDOIRe   = regexp.MustCompile(`(?i)DOI:\s*"?([^"\s)]+)"?`)
	epmcPMCRe   = regexp.MustCompile(`(?i)\b(PMC\d+)\b`)
	epmcExtIDRe = regexp.MustCompile(`(?i)EXT_ID:\s*"?(\d+)"?`)
)

// europepmcWork finds the work a Europe PMC query is about.
func (s *Server) europepmcWork(query string) (Work, bool) {
	for _, m := range []struct {
		re     *regexp.Regexp
		prefix string
	}{{epmcDOIRe, "doi:"}, {epmcPMCRe, ""}, {epmcExtIDRe, "pmid:"}} {
		if sub := m.re.FindStringSubmatch(query); sub != nil {
			return s.world.Lookup(m.prefix + sub[1])
		}
	}
	return Work{}, false
}

// europepmc serves the REST search (hits only for RouteEuropePMC works),
// /{PMCID}/fullTextXML, and europepmc.org's ?pdf=render redirect chain.
func (s *Server) europepmc(w http.ResponseWriter, r *http.Request, host string) {
	p := r.URL.Path
	q := r.URL.Query()
	if host == "europepmc.org" {
		var pmc string
		switch {
		case strings.HasPrefix(p, "/articles/") && q.Get("pdf") == "render":
			pmc = strings.ToUpper(strings.Trim(strings.TrimPrefix(p, "/articles/"), "/"))
		case p == "/backend/ptpmcrender.fcgi" && q.Get("blobtype") == "pdf":
			pmc = strings.ToUpper(q.Get("accid"))
		}
		wk, ok := s.world.Lookup(pmc)
		if pmc == "" || !ok || wk.Route != RouteEuropePMC {
			publisherNotFound(w)
			return
		}
		if strings.HasPrefix(p, "/articles/") {
			http.Redirect(w, r, "https://europepmc.org/backend/ptpmcrender.fcgi?accid="+wk.IDs.PMCID+"&blobtype=pdf", http.StatusFound)
			return
		}
		servePDF(w, r, wk.IDs.PMCID+".pdf", wk.PDF())
		return
	}
	const base = "/europepmc/webservices/rest/"
	switch {
	case p == base+"search":
		if ps := q.Get("pageSize"); len(ps) > 4 {
			writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{"version": "6.9", "errCode": 400, "errMsg": "pageSize must be between 1 and 1000"})
			return
		}
		var results []any
		if wk, ok := s.europepmcWork(q.Get("query")); ok && wk.Route == RouteEuropePMC {
			results = append(results, europepmcResult(wk))
		}
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{
			"version": "6.9", "hitCount": len(results), "nextCursorMark": "*",
			"request": map[string]any{"queryString": q.Get("query"), "resultType": cmpOr(q.Get("resultType"), "lite"),
				"cursorMark": cmpOr(q.Get("cursorMark"), "*"), "pageSize": 25, "sort": "", "synonym": false},
			"resultList": map[string]any{"result": append([]any{}, results...)},
		})
	case strings.HasPrefix(p, base) && strings.HasSuffix(p, "/fullTextXML"):
		wk, ok := s.world.Lookup(strings.TrimSuffix(strings.TrimPrefix(p, base), "/fullTextXML"))
		if !ok || wk.Route != RouteEuropePMC {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeText(w, http.StatusOK, "application/xml", jats(wk))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func europepmcResult(wk Work) map[string]any {
	render := "https://europepmc.org/articles/" + wk.IDs.PMCID + "?pdf=render"
	return map[string]any{
		"id": wk.IDs.PMID, "source": "MED", "pmid": wk.IDs.PMID, "pmcid": wk.IDs.PMCID, "doi": wk.IDs.DOI,
		"fullTextIdList": map[string]any{"fullTextId": []any{wk.IDs.PMCID}},
		"title":          wk.Title + ".", "pubYear": fmt.Sprint(wk.Year),
		"isOpenAccess": "Y", "inEPMC": "Y", "inPMC": "Y", "hasPDF": "Y", "license": "cc by",
		"fullTextUrlList": map[string]any{"fullTextUrl": []any{
			map[string]any{"availability": "Open access", "availabilityCode": "OA", "documentStyle": "pdf", "site": "Europe_PMC", "url": render},
			map[string]any{"availability": "Open access", "availabilityCode": "OA", "documentStyle": "html", "site": "Europe_PMC", "url": "https://europepmc.org/articles/" + wk.IDs.PMCID},
			map[string]any{"availability": "Subscription required", "availabilityCode": "S", "documentStyle": "doi", "site": "DOI", "url": "https://doi.org/" + wk.IDs.DOI},
		}},
	}
}

// jats is a small well-formed JATS article for the work.
func jats(wk Work) string {
	t := html.EscapeString(wk.Title)
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.3 20210610//EN" "JATS-archivearticle1-3.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article" dtd-version="1.3">
<front><article-meta>
<article-id pub-id-type="pmid">%[2]s</article-id>
<article-id pub-id-type="pmc">%[3]s</article-id>
<article-id pub-id-type="doi">%[4]s</article-id>
<title-group><article-title>%[1]s</article-title></title-group>
<pub-date pub-type="epub"><year>%[5]d</year></pub-date>
</article-meta></front>
<body><sec><title>Introduction</title><p>We study %[6]s with simulated data.</p></sec></body>
</article>
`, t, wk.IDs.PMID, wk.IDs.PMCID, wk.IDs.DOI, wk.Year, strings.ToLower(t))
}

// ncbi serves idconv (current and legacy), oa.fcgi, the PMC article pages
// (the PDF route is a proof-of-work page) and ftp.ncbi.nlm.nih.gov files.
func (s *Server) ncbi(w http.ResponseWriter, r *http.Request, host string) {
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case strings.Contains(p, "/idconv/"):
		legacy := strings.Contains(p, "/v1.0/")
		var recs []any
		for id := range strings.SplitSeq(q.Get("ids"), ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			wk, ok := s.world.Lookup(idconvForm(id, q.Get("idtype")))
			if !ok || wk.IDs.PMCID == "" {
				recs = append(recs, map[string]any{"requested-id": id, "status": "error", "errmsg": "Identifier not found in PMC"})
				continue
			}
			rec := map[string]any{"requested-id": id, "pmcid": wk.IDs.PMCID, "doi": wk.IDs.DOI}
			var pmid int
			_, _ = fmt.Sscan(wk.IDs.PMID, &pmid)
			rec["pmid"] = pmid
			if legacy {
				rec["pmid"] = wk.IDs.PMID
				rec["versions"] = []any{map[string]any{"pmcid": wk.IDs.PMCID + ".1", "current": "true"}}
			}
			recs = append(recs, rec)
		}
		writeJSON(w, http.StatusOK, "", map[string]any{"status": "ok", "responseDate": s.now().UTC().Format("2006-01-02 15:04:05"),
			"request": r.URL.RawQuery, "records": recs})
	case strings.HasSuffix(p, "/oa/oa.fcgi"):
		s.oaService(w, q.Get("id"))
	case host == "pmc.ncbi.nlm.nih.gov" && strings.HasPrefix(p, "/articles/"):
		s.pmcArticle(w, r)
	case host == "www.ncbi.nlm.nih.gov" && strings.HasPrefix(p, "/pmc/articles/"):
		rest := strings.TrimPrefix(p, "/pmc/articles/")
		if !strings.HasSuffix(rest, "/") {
			rest += "/"
		}
		http.Redirect(w, r, "https://pmc.ncbi.nlm.nih.gov/articles/"+rest, http.StatusMovedPermanently)
	default:
		publisherNotFound(w)
	}
}

func idconvForm(id, idtype string) string {
	switch strings.ToLower(idtype) {
	case "doi":
		return "doi:" + id
	case "pmid":
		return "pmid:" + id
	case "pmcid":
		return "pmcid:" + id
	}
	if strings.HasPrefix(id, "10.") {
		return "doi:" + id
	}
	if strings.HasPrefix(strings.ToUpper(id), "PMC") {
		return id
	}
	return "pmid:" + id
}

// pmcPDFPath is the PMC OA PDF's path below pub/pmc/[deprecated/]oa_pdf.
func (wk Work) pmcPDFPath() string {
	return fmt.Sprintf("%02x/%02x/sim-%d.%s.pdf", wk.n%256, (wk.n/256)%256, wk.n, wk.IDs.PMCID)
}

func (s *Server) oaService(w http.ResponseWriter, rawID string) {
	id := html.EscapeString(rawID)
	date := s.now().UTC().Format("2006-01-02 15:04:05")
	head := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<OA><responseDate>%s</responseDate><request id="%s">https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi?id=%s</request>`, date, id, id)
	wk, ok := s.world.Lookup(rawID)
	switch {
	case ok && wk.Route == RoutePMC:
		writeText(w, http.StatusOK, "text/xml", head+fmt.Sprintf(`<records returned-count="1" total-count="1"><record id="%[1]s" citation="Simulated Journal. %[2]d" license="CC BY" retracted="no"><link format="tgz" updated="%[3]s" href="ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/%[4]s.tar.gz" /><link format="pdf" updated="%[3]s" href="ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/%[5]s" /></record></records></OA>`,
			wk.IDs.PMCID, wk.Year, date, wk.IDs.PMCID, wk.pmcPDFPath()))
	case ok && wk.IDs.PMCID != "":
		writeText(w, http.StatusOK, "text/xml", head+fmt.Sprintf(`<error code="idIsNotOpenAccess">identifier '%s' is not Open Access</error></OA>`, id))
	default:
		writeText(w, http.StatusOK, "text/xml", head+fmt.Sprintf(`<error code="idDoesNotExist">identifier '%s' does not exist</error></OA>`, id))
	}
}

// pmcArticle: /articles/PMCn/ is an HTML page, /articles/PMCn/pdf/ a
// redirect to the file, and the file a proof-of-work page (apis.md §5).
func (s *Server) pmcArticle(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/articles/"), "/"), "/")
	wk, ok := s.world.Lookup(parts[0])
	if !ok || wk.IDs.PMCID == "" || wk.Route == RouteCast {
		publisherNotFound(w)
		return
	}
	file := fmt.Sprintf("sim-%d.pdf", wk.n)
	switch {
	case len(parts) == 1:
		writeText(w, http.StatusOK, "text/html; charset=utf-8", fmt.Sprintf(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%[1]s - PMC</title>
<meta name="citation_title" content="%[1]s"><meta name="citation_doi" content="%[2]s">
<meta name="citation_pdf_url" content="https://pmc.ncbi.nlm.nih.gov/articles/%[3]s/pdf/%[4]s"></head>
<body><h1>%[1]s</h1></body></html>
`, html.EscapeString(wk.Title), wk.IDs.DOI, wk.IDs.PMCID, file))
	case len(parts) == 2 && parts[1] == "pdf":
		http.Redirect(w, r, "https://pmc.ncbi.nlm.nih.gov/articles/"+wk.IDs.PMCID+"/pdf/"+file, http.StatusFound)
	case len(parts) == 3 && parts[1] == "pdf":
		page := strings.ReplaceAll(string(sample("pmc_pow.html")), "jsim-12-e0042.pdf", file)
		page = strings.ReplaceAll(page, "PMC9990001", wk.IDs.PMCID)
		writeText(w, http.StatusOK, "text/html; charset=utf-8", page)
	default:
		publisherNotFound(w)
	}
}

// ftpNCBI serves ftp.ncbi.nlm.nih.gov over HTTPS: OA PDFs exist only
// under pub/pmc/deprecated/oa_pdf (the old path is 404).
func (s *Server) ftpNCBI(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/pub/pmc/deprecated/oa_pdf/")
	if ok {
		for _, wk := range s.world.Works {
			if wk.Route == RoutePMC && wk.pmcPDFPath() == rest {
				servePDF(w, r, "", wk.PDF())
				return
			}
		}
	}
	w.WriteHeader(http.StatusNotFound)
}
