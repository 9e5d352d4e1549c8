package simweb

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type oaLocation struct {
	IsOA           bool    `json:"is_oa"`
	LandingPageURL *string `json:"landing_page_url"`
	PDFURL         *string `json:"pdf_url"`
	Version        string  `json:"version"`
}

type oaWork struct {
	ID              string      `json:"id"`
	DOI             *string     `json:"doi"`
	Title           string      `json:"title"`
	PublicationYear int         `json:"publication_year"`
	BestOALocation  *oaLocation `json:"best_oa_location"`
	PrimaryLocation *oaLocation `json:"primary_location"`
	Locations       []oaLocation
	OpenAccess      struct {
		IsOA     bool    `json:"is_oa"`
		OAStatus string  `json:"oa_status"`
		OAURL    *string `json:"oa_url"`
	} `json:"open_access"`
	IDs map[string]string `json:"ids"`
}

type upRecord struct {
	DOI            string `json:"doi"`
	IsOA           bool   `json:"is_oa"`
	BestOALocation *struct {
		URLForPDF         string `json:"url_for_pdf"`
		URLForLandingPage string `json:"url_for_landing_page"`
		HostType          string `json:"host_type"`
	} `json:"best_oa_location"`
	OALocations []any `json:"oa_locations"`
}

const email = "?email=ops@example.org"

func TestRouteUnpaywall(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	wk := firstOf(t, s.World(), RouteUnpaywall)
	if r := get(t, c, "https://api.openalex.org/works/doi:"+wk.IDs.DOI); r.status != 404 {
		t.Errorf("openalex knows an unpaywall-only work: %d", r.status)
	}
	if r := get(t, c, "https://api.unpaywall.org/v2/"+wk.IDs.DOI); r.status != 422 || !strings.Contains(string(r.body), "own email") {
		t.Errorf("no email: %d %s", r.status, r.body)
	}
	r := get(t, c, "https://api.unpaywall.org/v2/"+wk.IDs.DOI+email)
	var rec upRecord
	mustJSON(t, r.body, &rec)
	if r.status != 200 || !rec.IsOA || rec.BestOALocation == nil || rec.BestOALocation.URLForPDF == "" {
		t.Fatalf("unpaywall: %d %s", r.status, r.body)
	}
	checkPDF(t, get(t, c, rec.BestOALocation.URLForPDF))
	if r := get(t, c, "https://api.unpaywall.org/v2/10.5555/does-not-exist.0000"+email); r.status != 404 || !strings.Contains(string(r.body), "invalid doi.  See") {
		t.Errorf("missing doi: %d %s", r.status, r.body)
	}
}

func TestRouteOpenAlexIDForms(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	wk := firstOf(t, s.World(), RouteOpenAlex)
	forms := []string{wk.IDs.OpenAlex, "https://openalex.org/" + wk.IDs.OpenAlex, "doi:" + wk.IDs.DOI,
		"https://doi.org/" + wk.IDs.DOI, "pmid:" + wk.IDs.PMID, "pmcid:" + wk.IDs.PMCID, "pmcid:" + strings.TrimPrefix(wk.IDs.PMCID, "PMC")}
	for _, form := range forms {
		r := get(t, c, "https://api.openalex.org/works/"+form+"?api_key=TESTKEY&mailto=ops@example.org")
		var rec oaWork
		mustJSON(t, r.body, &rec)
		if r.status != 200 || rec.ID != "https://openalex.org/"+wk.IDs.OpenAlex || rec.BestOALocation == nil || rec.BestOALocation.PDFURL == nil {
			t.Fatalf("%s: %d %s", form, r.status, r.body)
		}
		if form == forms[0] {
			checkPDF(t, get(t, c, *rec.BestOALocation.PDFURL))
		}
	}
	if r := get(t, c, "https://api.openalex.org/works/"+wk.IDs.DOI); r.status != 404 {
		t.Errorf("bare doi: %d", r.status)
	}
	r := get(t, c, "https://api.unpaywall.org/v2/"+wk.IDs.DOI+email)
	var rec upRecord
	mustJSON(t, r.body, &rec)
	if r.status != 200 || rec.IsOA || rec.BestOALocation != nil {
		t.Errorf("unpaywall should say closed: %s", r.body)
	}
}

func TestRouteArXiv(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	wk := firstOf(t, s.World(), RouteArXiv)
	r := get(t, c, "https://export.arxiv.org/api/query?id_list="+url.QueryEscape(wk.IDs.ArXiv)+"&start=0&max_results=10")
	var feed struct {
		Total   int `xml:"totalResults"`
		Entries []struct {
			ID    string `xml:"id"`
			Title string `xml:"title"`
			Links []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(r.body, &feed); err != nil || r.status != 200 {
		t.Fatalf("atom: %d %v\n%s", r.status, err, r.body)
	}
	if feed.Total != 1 || len(feed.Entries) != 1 || feed.Entries[0].Title != wk.Title || len(feed.Entries[0].Links) != 2 {
		t.Fatalf("feed: %+v", feed)
	}
	checkPDF(t, get(t, c, feed.Entries[0].Links[1].Href))
	checkPDF(t, get(t, c, "https://arxiv.org/pdf/"+wk.IDs.ArXiv))
	checkPDF(t, get(t, c, "https://arxiv.org/pdf/"+wk.IDs.ArXiv+"v1"))
	if r := get(t, c, "https://arxiv.org/pdf/"+wk.IDs.ArXiv+"v1.pdf"); r.status != 301 || r.header.Get("Location") != "https://arxiv.org/pdf/"+wk.IDs.ArXiv+"v1" {
		t.Errorf(".pdf: %d %s", r.status, r.header.Get("Location"))
	}
	if r := get(t, c, "https://arxiv.org/pdf/"+wk.IDs.ArXiv+"v9"); r.status != 404 {
		t.Errorf("missing version: %d", r.status)
	}
	if r := get(t, c, "https://export.arxiv.org/api/query?id_list=1905.9912x"); r.status != 400 || !strings.Contains(string(r.body), "incorrect id format") {
		t.Errorf("bad id: %d %s", r.status, r.body)
	}
	if r := get(t, c, "https://export.arxiv.org/api/query?id_list=2201.99999"); r.status != 200 || !strings.Contains(string(r.body), "<opensearch:totalResults>0<") {
		t.Errorf("unknown id: %d %s", r.status, r.body)
	}
}

func TestRouteLanding(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	wk := firstOf(t, s.World(), RouteLanding)
	r := get(t, c, "https://doi.org/"+wk.IDs.DOI)
	loc := r.header.Get("Location")
	if r.status != http.StatusFound || !strings.HasPrefix(loc, "https://") {
		t.Fatalf("doi.org: %d %q", r.status, loc)
	}
	page := get(t, c, loc)
	if page.status != 200 || !strings.Contains(string(page.body), `name="citation_pdf_url" content="`+wk.publisherPDFURL()+`"`) {
		t.Fatalf("landing: %d %s", page.status, page.body)
	}
	checkPDF(t, get(t, c, wk.publisherPDFURL()))
	for _, u := range []string{"https://api.openalex.org/works/doi:" + wk.IDs.DOI, "https://api.crossref.org/works/" + wk.IDs.DOI} {
		if r := get(t, c, u); r.status != 404 {
			t.Errorf("%s: %d", u, r.status)
		}
	}
	if r := get(t, c, "https://doi.org/10.5555/does-not-exist.0000"); r.status != 404 || !strings.Contains(string(r.body), "DOI Not Found") {
		t.Errorf("unknown doi: %d", r.status)
	}
	r = get(t, c, "https://doi.org/api/handles/"+wk.IDs.DOI)
	var h struct {
		ResponseCode int `json:"responseCode"`
		Values       []struct {
			Type string `json:"type"`
			Data struct {
				Value any `json:"value"`
			} `json:"data"`
		} `json:"values"`
	}
	mustJSON(t, r.body, &h)
	if h.ResponseCode != 1 || h.Values[0].Data.Value != loc {
		t.Errorf("handle: %s", r.body)
	}
}

func TestRouteClosedAndTrap(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	closed := firstOf(t, s.World(), RouteClosed)
	var rec oaWork
	mustJSON(t, get(t, c, "https://api.openalex.org/works/"+closed.IDs.OpenAlex).body, &rec)
	if rec.OpenAccess.IsOA || rec.BestOALocation != nil || rec.DOI != nil || rec.PrimaryLocation == nil || rec.PrimaryLocation.LandingPageURL != nil {
		t.Errorf("closed record: %+v", rec)
	}
	trap := firstOf(t, s.World(), RouteWrongType)
	mustJSON(t, get(t, c, "https://api.openalex.org/works/"+trap.IDs.OpenAlex).body, &rec)
	if rec.BestOALocation == nil || rec.BestOALocation.PDFURL == nil {
		t.Fatalf("trap record: %+v", rec)
	}
	r := get(t, c, *rec.BestOALocation.PDFURL)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "<!DOCTYPE html>") {
		t.Errorf("trap: %d %q %.40s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestRouteWalls(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	land := func(r Route) (Work, resp) {
		wk := firstOf(t, s.World(), r)
		res := get(t, c, "https://doi.org/"+wk.IDs.DOI)
		return wk, get(t, c, res.header.Get("Location"))
	}
	_, r := land(RouteChallenge)
	if r.status != 403 || r.header.Get("Cf-Mitigated") != "challenge" || !strings.Contains(string(r.body), "Just a moment...") {
		t.Errorf("challenge: %d %v", r.status, r.header)
	}
	wk, r := land(RouteLogin)
	if r.status != 302 || !strings.HasPrefix(r.header.Get("Location"), "/action/showLogin?redirectUri=") {
		t.Fatalf("login: %d %v", r.status, r.header)
	}
	r = get(t, c, "https://"+wk.publisherHost()+r.header.Get("Location"))
	if r.status != 200 || !strings.Contains(string(r.body), `type="password"`) {
		t.Errorf("login page: %d %s", r.status, r.body)
	}
	_, r = land(RoutePaywall)
	if body := string(r.body); r.status != 200 || !strings.Contains(body, "Purchase this article") || strings.Contains(body, "citation_pdf_url") {
		t.Errorf("paywall: %d %s", r.status, body)
	}
	wk, r = land(RouteCookie)
	if r.status != 302 || !strings.HasPrefix(r.header.Get("Location"), "/consent?redirect=") {
		t.Fatalf("cookie: %d %v", r.status, r.header)
	}
	r = get(t, c, "https://"+wk.publisherHost()+r.header.Get("Location"))
	if r.status != 200 || !strings.Contains(string(r.body), "Your privacy choices") {
		t.Errorf("consent page: %d %s", r.status, r.body)
	}
}

func TestCastReplay(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	var rec oaWork
	r := get(t, c, "https://api.openalex.org/works/pmcid:PMC9990001?api_key=TESTKEY")
	mustJSON(t, r.body, &rec)
	if r.status != 200 || rec.Title != "Adaptive Sampling Strategies for Sparse Ecological Surveys" || rec.BestOALocation == nil {
		t.Errorf("A: %d %+v", r.status, rec)
	}
	checkPDF(t, get(t, c, *rec.BestOALocation.PDFURL))
	if r := get(t, c, "https://api.openalex.org/works/doi:10.5555/does-not-exist.0000"); r.status != 404 || !strings.Contains(string(r.body), `"error"`) {
		t.Errorf("missing: %d %s", r.status, r.body)
	}
	if r := get(t, c, "https://doi.org/api/handles/10.5555%2Fjsim.2021.0042"); r.status != 404 {
		t.Errorf("encoded slash handle: %d", r.status)
	}
	if r := get(t, c, "https://doi.org/api/handles/10.5555/jsim.2021.0042"); r.status != 200 {
		t.Errorf("handle: %d", r.status)
	}
	if r := get(t, c, "https://doi.org/10.5555/jsim.2021.0042", "Accept", "application/vnd.citationstyles.csl+json"); r.status != 302 || !strings.Contains(r.header.Get("Location"), "api.crossref.org") {
		t.Errorf("conneg: %d %v", r.status, r.header)
	}
	checkPDF(t, get(t, c, "https://web.archive.org/web/20050314093012id_/http://www.example-history.org/papers/hanse1998.pdf"))
	var up upRecord
	mustJSON(t, get(t, c, "https://api.unpaywall.org/v2/10.5555/TCS.2019.117"+email).body, &up)
	if !up.IsOA || up.BestOALocation == nil || up.BestOALocation.HostType != "repository" {
		t.Errorf("B unpaywall: %+v", up)
	}
	checkPDF(t, get(t, c, "https://arxiv.org/pdf/1905.99123v1"))
	// Credentials are checked before the replay answers.
	if r := get(t, c, "https://api.unpaywall.org/v2/10.5555/jsim.2021.0042"); r.status != 422 {
		t.Errorf("cast without email: %d", r.status)
	}
	core := "https://api.core.ac.uk/v3/search/works/?q=doi:%2210.5555%2Ftcs.2019.117%22&limit=10&offset=0"
	if r := get(t, c, core); r.status != 401 {
		t.Errorf("core without token: %d", r.status)
	}
	if r := get(t, c, core, "Authorization", "Bearer TESTKEY"); r.status != 200 || !strings.Contains(string(r.body), "999000123.pdf") {
		t.Errorf("core with token: %d", r.status)
	}
	// C's capture is found whatever the query's extra parameters.
	var wb struct {
		Snapshots struct {
			Closest *struct{ Timestamp string } `json:"closest"`
		} `json:"archived_snapshots"`
	}
	mustJSON(t, get(t, c, "https://archive.org/wayback/available?url="+url.QueryEscape("http://www.example-history.org/papers/hanse1998.pdf")).body, &wb)
	if wb.Snapshots.Closest == nil || wb.Snapshots.Closest.Timestamp != "20050314093012" {
		t.Errorf("C availability: %+v", wb)
	}
	wb.Snapshots.Closest = nil
	mustJSON(t, get(t, c, "https://archive.org/wayback/available?url="+url.QueryEscape("https://doi.org/10.5555/hist.1998.003")+"&timestamp=1998").body, &wb)
	if wb.Snapshots.Closest == nil {
		t.Errorf("C by doi URL: %+v", wb)
	}
	follow := s.Client()
	defer follow.CloseIdleConnections()
	checkPDF(t, get(t, follow, "https://web.archive.org/web/2005id_/https://doi.org/10.5555/hist.1998.003"))
	r = get(t, c, "https://web.archive.org/web/2005id_/http://www.example-history.org/papers/hanse1998.pdf")
	if r.status != 302 || !strings.Contains(r.header.Get("Location"), "20050314093012id_/") {
		t.Errorf("inexact timestamp: %d %q", r.status, r.header.Get("Location"))
	}
}

func TestOpenAlexListPaging(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 60})
	want := 0
	for _, rec := range s.oaRecords {
		if rec != nil {
			want++
		}
	}
	type page struct {
		Meta struct {
			Count      int     `json:"count"`
			Page       *int    `json:"page"`
			PerPage    int     `json:"per_page"`
			NextCursor *string `json:"next_cursor"`
		} `json:"meta"`
		Results []map[string]any `json:"results"`
	}
	seen := map[string]bool{}
	cursor := "*"
	for range 20 {
		var p page
		r := get(t, c, "https://api.openalex.org/works?per-page=7&select=id,doi,title&cursor="+url.QueryEscape(cursor))
		mustJSON(t, r.body, &p)
		if r.status != 200 || p.Meta.Page != nil || p.Meta.Count != want || p.Meta.PerPage != 7 {
			t.Fatalf("page: %d %s", r.status, r.body)
		}
		if len(p.Results) == 0 {
			if p.Meta.NextCursor != nil {
				t.Fatal("empty page with a next cursor")
			}
			break
		}
		for _, res := range p.Results {
			if len(res) != 3 {
				t.Errorf("select not applied: %v", res)
			}
			seen[res["id"].(string)] = true
		}
		cursor = *p.Meta.NextCursor
	}
	if len(seen) != want {
		t.Errorf("paged over %d works, want %d", len(seen), want)
	}
	var p page
	mustJSON(t, get(t, c, "https://api.openalex.org/works?filter=is_oa:true,publication_year:1990-2030&per_page=200").body, &p)
	for _, res := range p.Results {
		if oa := res["open_access"].(map[string]any); oa["is_oa"] != true {
			t.Errorf("is_oa filter let through %v", res["id"])
		}
	}
	if p.Meta.Count == 0 || p.Meta.Count >= want || p.Meta.Page == nil || *p.Meta.Page != 1 {
		t.Errorf("filtered meta: %+v", p.Meta)
	}
	mustJSON(t, get(t, c, "https://api.openalex.org/works?filter=has_doi:false&per_page=200").body, &p)
	for _, res := range p.Results {
		if res["doi"] != nil {
			t.Errorf("has_doi:false let through %v", res["doi"])
		}
	}
	for _, bad := range []string{"filter=no_such_field:1", "select=open_access.is_oa", "cursor=bogus", "per_page=500"} {
		r := get(t, c, "https://api.openalex.org/works?"+bad)
		var e struct{ Error, Message string }
		mustJSON(t, r.body, &e)
		if r.status != 400 || e.Error == "" || e.Message == "" {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

// TestManifestReplayed requests every manifest entry the replay serves and
// checks the status and, where the manifest names one, the body.
func TestManifestReplayed(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	for _, e := range s.replay.entries {
		req, err := http.NewRequestWithContext(t.Context(), e.Method, e.URL, strings.NewReader(`{"ids": ["DOI:10.5555/jsim.2021.0042"]}`))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range e.RequestHeaders {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		if res.StatusCode != e.Status {
			t.Errorf("%s: status %d, want %d", e.ID, res.StatusCode, e.Status)
		}
		if e.Body != nil && !bytes.Equal(body, sample(*e.Body)) {
			t.Errorf("%s: body is not %s", e.ID, *e.Body)
		}
	}
}
