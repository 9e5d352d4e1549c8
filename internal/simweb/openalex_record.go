package simweb

import (
	"bytes"
	"encoding/json"
	"fmt"
)

type topic struct {
	id, name                      string
	subfield, field, domain       int
	subfieldN, fieldN, domainName string
}

// topics are the simulated OpenAlex topics; the first three are the cast's.
var topics = []topic{
	{"T99901", "Ecological Survey Design and Sampling", 2303, 23, 3, "Ecology", "Environmental Science", "Physical Sciences"},
	{"T99902", "Fault Tolerance in Distributed Systems", 1705, 17, 3, "Computer Networks and Communications", "Computer Science", "Physical Sciences"},
	{"T99903", "Medieval Trade and Economic History", 1202, 12, 2, "History", "Arts and Humanities", "Social Sciences"},
	{"T99904", "Clinical Cohort Epidemiology", 2713, 27, 4, "Epidemiology", "Medicine", "Health Sciences"},
}

func (t topic) json() map[string]any {
	return map[string]any{
		"id": "https://openalex.org/" + t.id, "display_name": t.name, "score": 0.99,
		"subfield": map[string]any{"id": fmt.Sprintf("https://openalex.org/subfields/%d", t.subfield), "display_name": t.subfieldN},
		"field":    map[string]any{"id": fmt.Sprintf("https://openalex.org/fields/%d", t.field), "display_name": t.fieldN},
		"domain":   map[string]any{"id": fmt.Sprintf("https://openalex.org/domains/%d", t.domain), "display_name": t.domainName},
	}
}

// inOpenAlex reports whether OpenAlex knows the work. Works whose winning
// source must be another one are absent so that OpenAlex cannot win.
func (wk Work) inOpenAlex() bool {
	switch wk.Route {
	case RouteCast, RouteOpenAlex, RouteClosed, RouteWrongType, RouteWayback,
		RouteChallenge, RouteLogin, RoutePaywall, RouteCookie:
		return wk.IDs.OpenAlex != ""
	}
	return isHostile(wk.Route)
}

// openAlexRecords builds every work's OpenAlex object (nil when OpenAlex
// does not know it); the cast's come from the samples.
func openAlexRecords(world *World) ([]map[string]any, error) {
	out := make([]map[string]any, len(world.Works))
	castFiles := []string{"openalex_work_gold.json", "openalex_work.json", "openalex_work_closed.json"}
	for i, wk := range world.Works {
		if wk.Route == RouteCast {
			dec := json.NewDecoder(bytes.NewReader(sample(castFiles[i])))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("simweb: cast record %d: %w", i, err)
			}
			out[i] = m
			continue
		}
		if wk.inOpenAlex() {
			out[i] = wk.openAlexRecord()
		}
	}
	return out, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (wk Work) publicationDate() string {
	return fmt.Sprintf("%04d-%02d-%02d", wk.Year, 1+wk.n%12, 1+wk.n%28)
}

func (wk Work) journal() map[string]any {
	j := 200 + wk.n%7
	return map[string]any{
		"id": fmt.Sprintf("https://openalex.org/S99900%05d", j), "display_name": fmt.Sprintf("Simulated Journal %d", j),
		"issn_l": fmt.Sprintf("2999-%04d", j), "issn": []any{fmt.Sprintf("2999-%04d", j)},
		"is_oa": false, "is_in_doaj": false, "is_core": true,
		"host_organization": "https://openalex.org/P9990000299", "host_organization_name": "Example Simulated Press",
		"host_organization_lineage": []any{"https://openalex.org/P9990000299"}, "type": "journal",
	}
}

func repositorySource() map[string]any {
	return map[string]any{
		"id": "https://openalex.org/S9990000301", "display_name": "Example University Repository",
		"issn_l": nil, "issn": nil, "is_oa": true, "is_in_doaj": false, "is_core": false,
		"host_organization": "https://openalex.org/I9990000401", "host_organization_name": "Example University",
		"host_organization_lineage": []any{"https://openalex.org/I9990000401"}, "type": "repository",
	}
}

func location(id string, isOA bool, landing, pdf string, source map[string]any, version, license string) map[string]any {
	return map[string]any{
		"id": id, "is_oa": isOA, "landing_page_url": nullable(landing), "pdf_url": nullable(pdf),
		"source": source, "license": nullable(license), "license_id": nil, "version": version,
		"is_accepted": version != "submittedVersion", "is_published": version == "publishedVersion",
	}
}

func (wk Work) openAlexRecord() map[string]any {
	doiURL := ""
	if wk.IDs.DOI != "" {
		doiURL = "https://doi.org/" + wk.IDs.DOI
	}
	ids := map[string]any{"openalex": "https://openalex.org/" + wk.IDs.OpenAlex}
	if doiURL != "" {
		ids["doi"] = doiURL
	}
	if wk.IDs.PMID != "" {
		ids["pmid"] = "https://pubmed.ncbi.nlm.nih.gov/" + wk.IDs.PMID
	}
	if wk.IDs.PMCID != "" {
		ids["pmcid"] = "https://www.ncbi.nlm.nih.gov/pmc/articles/" + wk.IDs.PMCID
	}
	locID := "doi:" + wk.IDs.DOI
	if wk.IDs.DOI == "" {
		locID = "openalex:" + wk.IDs.OpenAlex
	}
	var primary, best map[string]any
	locations := []any{}
	oaStatus, oaURL := "closed", ""
	switch wk.Route {
	case RouteOpenAlex:
		primary = location(locID, false, doiURL, "", wk.journal(), "publishedVersion", "")
		best = location(fmt.Sprintf("pmh:oai:repository.example.edu:sim/%d", wk.n), true,
			fmt.Sprintf("https://repository.example.edu/handle/sim/%d", wk.n), wk.repositoryPDFURL(),
			repositorySource(), "acceptedVersion", "cc-by")
		locations = append(locations, primary, best)
		oaStatus, oaURL = "green", wk.repositoryPDFURL()
	case RouteWrongType:
		j := wk.journal()
		j["is_oa"] = true
		primary = location(locID, true, "", wk.publisherPDFURL(), j, "publishedVersion", "cc-by")
		best = primary
		locations = append(locations, primary)
		oaStatus, oaURL = "gold", wk.publisherPDFURL()
	case RouteClosed:
		primary = location(locID, false, "", "", wk.journal(), "publishedVersion", "")
		locations = append(locations, primary)
	case RoutePrivateLink, RouteRobots:
		primary = location(locID, true, wk.hostileURL("landing"), "", wk.journal(), "publishedVersion", "cc-by")
		best = primary
		locations = append(locations, primary)
		oaStatus, oaURL = "bronze", wk.hostileURL("landing")
	case RouteRedirectChain, RouteRedirectLoop, RoutePrivateRedirect, RouteGzipBomb,
		RouteLengthLie, RouteDrip, RouteBadFilename, RouteJSAsPDF, RouteOtherWork:
		primary = location(locID, true, "", wk.hostileURL("file.pdf"), wk.journal(), "publishedVersion", "cc-by")
		best = primary
		locations = append(locations, primary)
		oaStatus, oaURL = "gold", wk.hostileURL("file.pdf")
	case RouteWayback:
		// The publisher's PDF URL is dead; only its Wayback capture works.
		primary = location(locID, false, wk.landingURL(), wk.deadPDFURL(), wk.journal(), "publishedVersion", "")
		locations = append(locations, primary)
	default: // walls: the only lead is the DOI landing page
		primary = location(locID, false, doiURL, "", wk.journal(), "publishedVersion", "")
		locations = append(locations, primary)
	}
	t := topics[wk.n%len(topics)]
	rec := map[string]any{
		"id":               "https://openalex.org/" + wk.IDs.OpenAlex,
		"doi":              nullable(doiURL),
		"title":            wk.Title,
		"display_name":     wk.Title,
		"publication_year": wk.Year,
		"publication_date": wk.publicationDate(),
		"language":         "en",
		"type":             "article",
		"ids":              ids,
		"primary_location": primary,
		"best_oa_location": nil,
		"locations":        locations,
		"locations_count":  len(locations),
		"open_access": map[string]any{
			"is_oa": best != nil, "oa_status": oaStatus, "oa_url": nullable(oaURL),
			"any_repository_has_fulltext": wk.Route == RouteOpenAlex,
		},
		"has_fulltext":   false,
		"cited_by_count": wk.n % 50,
		"is_retracted":   false,
		"is_paratext":    false,
		"primary_topic":  t.json(),
		"topics":         []any{t.json()},
		"updated_date":   "2026-11-01T00:00:00.000000",
		"created_date":   "2025-01-01",
	}
	if best != nil {
		rec["best_oa_location"] = best
	}
	return rec
}
