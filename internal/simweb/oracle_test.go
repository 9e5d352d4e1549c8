package simweb

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/landing"
)

// leads asks every service about wk, as the sources would, and returns
// the sources that offer a full-text URL, with that URL.
func leads(t *testing.T, c *http.Client, wk Work) map[string]string {
	t.Helper()
	out := map[string]string{}
	ids := wk.IDs
	if ids.OpenAlex != "" || ids.DOI != "" {
		ref := ids.OpenAlex
		if ref == "" {
			ref = "doi:" + ids.DOI
		}
		var rec oaWork
		if r := get(t, c, "https://api.openalex.org/works/"+ref); r.status == 200 {
			mustJSON(t, r.body, &rec)
			if rec.BestOALocation != nil && rec.BestOALocation.PDFURL != nil {
				out["openalex"] = *rec.BestOALocation.PDFURL
			}
		}
	}
	if ids.ArXiv != "" {
		out["arxiv"] = "https://arxiv.org/pdf/" + ids.ArXiv
	}
	if ids.PMCID != "" {
		r := get(t, c, "https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi?id="+ids.PMCID)
		if m := regexp.MustCompile(`format="pdf"[^>]*href="ftp://([^"]+)"`).FindStringSubmatch(string(r.body)); m != nil {
			out["pmc"] = "https://" + strings.Replace(m[1], "/pub/pmc/oa_pdf/", "/pub/pmc/deprecated/oa_pdf/", 1)
		}
		if r := get(t, c, "https://europepmc.org/articles/"+ids.PMCID+"?pdf=render"); r.status == 302 {
			out["europepmc"] = "https://europepmc.org/articles/" + ids.PMCID + "?pdf=render"
		}
	}
	if ids.DOI == "" {
		return out
	}
	doi := ids.DOI
	var up upRecord
	mustJSON(t, get(t, c, "https://api.unpaywall.org/v2/"+doi+email).body, &up)
	if up.IsOA {
		out["unpaywall"] = up.BestOALocation.URLForPDF
	}
	if r := get(t, c, "https://api.crossref.org/works/"+doi); r.status == 200 {
		var cr struct {
			Message struct {
				Link []map[string]string `json:"link"`
			} `json:"message"`
		}
		mustJSON(t, r.body, &cr)
		for _, l := range cr.Message.Link {
			if l["content-type"] == "application/pdf" {
				out["crossref"] = l["URL"]
			}
		}
	}
	var ep struct {
		HitCount int `json:"hitCount"`
	}
	mustJSON(t, get(t, c, "https://www.ebi.ac.uk/europepmc/webservices/rest/search?query="+url.QueryEscape(`DOI:"`+doi+`"`)+"&resultType=core&format=json").body, &ep)
	if ep.HitCount > 0 && out["europepmc"] == "" {
		t.Errorf("work %d: europepmc search hit without render", wk.n)
	}
	if r := get(t, c, "https://doi.org/"+doi); r.status == 302 {
		loc := r.header.Get("Location")
		page := get(t, c, loc)
		// The real extractor reads every platform's markup; its best PDF
		// link is what the doi source follows.
		res := landing.Extract(loc, page.status, page.header, page.body, landing.Hint{DOI: doi})
		if page.status == 200 && len(res.Links) > 0 && res.Links[0].Kind == fulltext.KindPDF {
			out["doi"] = res.Links[0].URL
		}
	}
	var s2 struct {
		OpenAccessPdf struct{ URL string } `json:"openAccessPdf"`
	}
	if r := get(t, c, "https://api.semanticscholar.org/graph/v1/paper/DOI:"+doi+"?fields=openAccessPdf"); r.status == 200 {
		mustJSON(t, r.body, &s2)
		if s2.OpenAccessPdf.URL != "" {
			out["semanticscholar"] = s2.OpenAccessPdf.URL
		}
	}
	var core struct {
		Results []struct {
			DownloadURL string `json:"downloadUrl"`
		} `json:"results"`
	}
	mustJSON(t, get(t, c, "https://api.core.ac.uk/v3/search/works/?q="+url.QueryEscape(`doi:"`+doi+`"`), "Authorization", "Bearer TESTKEY").body, &core)
	if len(core.Results) > 0 {
		out["core"] = core.Results[0].DownloadURL
	}
	var doaj struct {
		Results []struct {
			Bibjson struct {
				Link []map[string]string `json:"link"`
			} `json:"bibjson"`
		} `json:"results"`
	}
	mustJSON(t, get(t, c, "https://doaj.org/api/search/articles/"+url.PathEscape(`doi:"`+doi+`"`)).body, &doaj)
	for _, res := range doaj.Results {
		for _, l := range res.Bibjson.Link {
			if l["content_type"] == "PDF" {
				out["doaj"] = l["url"]
			}
		}
	}
	var zen struct {
		Hits struct {
			Hits []struct {
				Files []struct {
					Links struct{ Self string } `json:"links"`
				} `json:"files"`
			} `json:"hits"`
		} `json:"hits"`
	}
	mustJSON(t, get(t, c, "https://zenodo.org/api/records?q="+url.QueryEscape(`related.identifier:"`+doi+`"`)).body, &zen)
	if len(zen.Hits.Hits) > 0 {
		out["zenodo"] = zen.Hits.Hits[0].Files[0].Links.Self
	}
	var hal struct {
		Response struct {
			Docs []struct {
				FileMain string `json:"fileMain_s"`
			} `json:"docs"`
		} `json:"response"`
	}
	mustJSON(t, get(t, c, "https://api.archives-ouvertes.fr/search/?q="+url.QueryEscape(`doiId_s:"`+doi+`"`)+"&wt=json").body, &hal)
	if len(hal.Response.Docs) > 0 {
		out["hal"] = hal.Response.Docs[0].FileMain
	}
	if guid, ok := strings.CutPrefix(doi, "10.31219/osf.io/"); ok {
		var pre struct {
			Data struct {
				Relationships struct {
					PrimaryFile struct {
						Links struct{ Related struct{ Href string } } `json:"links"`
					} `json:"primary_file"`
				} `json:"relationships"`
			} `json:"data"`
		}
		if r := get(t, c, "https://api.osf.io/v2/preprints/"+guid+"/"); r.status == 200 {
			mustJSON(t, r.body, &pre)
			var file struct {
				Data struct{ Links struct{ Download string } } `json:"data"`
			}
			mustJSON(t, get(t, c, pre.Data.Relationships.PrimaryFile.Links.Related.Href).body, &file)
			out["osf"] = file.Data.Links.Download
		}
	}
	if r := post(t, c, "https://api.figshare.com/v2/articles/search", `{"resource_doi":"`+doi+`"}`); r.status == 200 {
		var hits []struct {
			URL string `json:"url_public_api"`
		}
		mustJSON(t, r.body, &hits)
		for _, h := range hits {
			var a struct {
				DefinedTypeName string `json:"defined_type_name"`
				Files           []struct {
					DownloadURL string `json:"download_url"`
				} `json:"files"`
			}
			mustJSON(t, get(t, c, h.URL).body, &a)
			if a.DefinedTypeName == "journal contribution" && len(a.Files) > 0 {
				out["figshare"] = a.Files[0].DownloadURL
			}
		}
	}
	var wb struct {
		Snapshots struct {
			Closest *struct{ Timestamp string } `json:"closest"`
		} `json:"archived_snapshots"`
	}
	mustJSON(t, get(t, c, "https://archive.org/wayback/available?url="+url.QueryEscape("https://doi.org/"+doi)).body, &wb)
	if wb.Snapshots.Closest != nil {
		out["wayback"] = "https://web.archive.org/web/" + wb.Snapshots.Closest.Timestamp + "id_/https://doi.org/" + doi
	}
	return out
}

// TestOracle checks, for every generated work, that exactly the winning
// source offers a full text, that the offered URL (redirects followed)
// gives the work's PDF, and that no other service leaks one.
func TestOracle(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 3 + len(generatedRoutes)*(1+len(platforms))})
	follow := s.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	follow.Jar = jar
	defer follow.CloseIdleConnections()
	for _, wk := range s.World().Works[3:] {
		got := leads(t, c, wk)
		var names []string
		for k := range got {
			names = append(names, k)
		}
		slices.Sort(names)
		want := []string{}
		if wk.WantSource != "" {
			want = []string{wk.WantSource}
		}
		switch wk.Route {
		case RouteWrongType:
			want = []string{"openalex"}
		case RouteUnpaywall:
			// The publisher's landing page links the same PDF; doi runs in
			// a later tier than unpaywall.
			want = []string{"doi", "unpaywall"}
		}
		if !slices.Equal(names, want) {
			t.Errorf("work %d (%s): sources %v, want %v", wk.n, wk.Route, names, want)
			continue
		}
		for name, u := range got {
			if name == "doi" {
				// As oafetch does: the landing page first, its cookies kept.
				get(t, follow, wk.resolveURL())
			}
			r := get(t, follow, u)
			if wk.Route == RouteWrongType {
				if r.header.Get("Content-Type") != "application/pdf" || !strings.Contains(string(r.body), "<html") {
					t.Errorf("work %d: trap serves %q", wk.n, r.header.Get("Content-Type"))
				}
				continue
			}
			checkPDF(t, r)
			if string(r.body) != string(wk.PDF()) {
				t.Errorf("work %d via %s (%s): not the work's PDF", wk.n, name, u)
			}
		}
	}
}

func post(t *testing.T, c *http.Client, rawURL, body string) resp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("POST %s: read: %v", rawURL, err)
	}
	return resp{res.StatusCode, res.Header, b}
}
