package simweb

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDispatch sends arbitrary hosts, paths and queries through the whole
// handler (no network): it must never panic and always answer a valid
// status. Seeded with every manifest request and the generated routes.
func FuzzDispatch(f *testing.F) {
	s, err := New(Config{Works: 40, Hostile: true})
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range s.replay.entries {
		f.Add(e.Method, e.host, strings.TrimPrefix(e.URL, "https://"+e.host))
	}
	for _, wk := range s.World().Works {
		f.Add("GET", "doi.org", "/"+wk.IDs.DOI)
		f.Add("GET", wk.publisherHost(), "/article/"+wk.key()+"/pdf")
		f.Add("GET", hostileHost, "/h/"+itoa(wk.n)+"/file.pdf")
	}
	f.Add("GET", "api.openalex.org", "/works?filter=publication_year:>2000|<1990,type:!article&cursor=*&per-page=3")
	f.Add("GET", "pmc.ncbi.nlm.nih.gov", "/articles//pdf/")
	f.Add("GET", "repository.example.edu", "/bitstream/handle/sim/-1/article.pdf")
	f.Add("POST", "api.semanticscholar.org", "/graph/v1/paper/batch")
	f.Fuzz(func(t *testing.T, method, host, target string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || strings.ContainsAny(host, " /\r\n\t?#@%") {
			return
		}
		if host == hostileHost {
			return // drips and bombs are slow or big by design
		}
		req, err := http.NewRequest(method, "http://placeholder"+target, strings.NewReader(`{"ids":["DOI:10.5555/sim.4"]}`))
		if err != nil {
			return
		}
		req.Host = host
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code < 100 || rec.Code > 599 {
			t.Fatalf("%s %s%s: status %d", method, host, target, rec.Code)
		}
	})
}
