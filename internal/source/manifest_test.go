package source

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// The manifest of reference/api-samples maps real upstream requests to
// responses. Replaying it checks that every source asks the real hosts with
// the real paths and parameters — what the simulated scholarly web serves —
// not only what our own fakes expect.

type manifestEntry struct {
	ID              string            `json:"id"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Status          int               `json:"status"`
	ResponseHeaders map[string]string `json:"response_headers"`
	Body            *string           `json:"body"`
	Variant         string            `json:"variant"`
}

// politeParams are ignored when matching (manifest conventions.matching).
var politeParams = map[string]bool{"email": true, "mailto": true, "tool": true, "api_key": true}

type replay struct {
	entries []manifestEntry
	parsed  []*url.URL
}

func newReplay(t *testing.T) *replay {
	t.Helper()
	var m struct {
		Entries []manifestEntry `json:"entries"`
	}
	if err := json.Unmarshal(readFixture(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	r := &replay{}
	for _, e := range m.Entries {
		if e.Variant != "" {
			continue // scenario variants; the default answer is enough here
		}
		u, err := url.Parse(e.URL)
		if err != nil {
			t.Fatalf("manifest %s: %v", e.ID, err)
		}
		r.entries = append(r.entries, e)
		r.parsed = append(r.parsed, u)
	}
	return r
}

// match returns the entry for a request to https://host/path?query: same
// method, host and decoded path, every relevant manifest parameter present
// with the same values; the entry naming the most parameters wins.
func (r *replay) match(method, host string, u *url.URL) (manifestEntry, bool) {
	best, bestN := -1, -1
	got := u.Query()
	for i, e := range r.entries {
		pu := r.parsed[i]
		if e.Method != method || pu.Host != host || pu.Path != u.Path {
			continue
		}
		n, ok := 0, true
		for k, vs := range pu.Query() {
			if politeParams[k] {
				continue
			}
			if !slices.Equal(sorted(got[k]), sorted(vs)) && !(k == "fl" && len(got[k]) == 1 && len(vs) == 1 &&
				isSubset(strings.Split(vs[0], ","), strings.Split(got[k][0], ","))) {
				ok = false
				break
			}
			n++
		}
		if ok && n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return manifestEntry{}, false
	}
	return r.entries[best], true
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// rewrite sends every request to the replay server, keeping the real host in
// Host — what --connect-to does for the whole tool.
type rewrite struct {
	addr string
	next http.RoundTripper
}

func (rw rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Host = req.URL.Host
	r.URL.Scheme = "http"
	r.URL.Host = rw.addr
	return rw.next.RoundTrip(r)
}

// replayClient serves the manifest on loopback and returns a client that
// reaches it for every host.
func replayClient(t *testing.T) *http.Client {
	t.Helper()
	rp := newReplay(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := rp.match(r.Method, r.Host, r.URL)
		if !ok {
			t.Errorf("no manifest entry for %s https://%s%s", r.Method, r.Host, r.URL.RequestURI())
			w.WriteHeader(http.StatusNotFound)
			return
		}
		for k, v := range e.ResponseHeaders {
			w.Header().Set(k, v)
		}
		var body []byte
		if e.Body != nil {
			body, _ = os.ReadFile(filepath.Join("testdata", *e.Body)) // bodies sources never read are not copied
		}
		w.WriteHeader(e.Status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return &http.Client{Transport: rewrite{addr: srv.Listener.Addr().String(), next: srv.Client().Transport}}
}

func TestManifestReplay(t *testing.T) {
	t.Parallel()
	client := replayClient(t)
	cWork := `{"id":"https://openalex.org/W9990000003","doi":"https://doi.org/10.5555/hist.1998.003","publication_year":1998,
	  "locations":[{"is_oa":false,"landing_page_url":"https://doi.org/10.5555/hist.1998.003","pdf_url":"http://www.example-history.org/papers/hanse1998.pdf"}]}`
	tests := []struct {
		source string
		id     string
		first  string // first candidate URL; "" = none
		closed bool
		code   fulltext.Code
	}{
		{source: "openalex", id: "10.5555/jsim.2021.0042", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "openalex", id: "W9990000002", first: "https://repository.example.edu/bitstream/handle/123456789/4242/consensus_aam.pdf"},
		{source: "openalex", id: "PMC9990001", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "openalex", id: "pmid:39990001", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "openalex", id: "10.5555/hist.1998.003", closed: true},
		{source: "openalex", id: "10.5555/does-not-exist.0000", code: fulltext.CodeNotFound},
		{source: "unpaywall", id: "10.5555/jsim.2021.0042", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "unpaywall", id: "10.5555/tcs.2019.117", first: "https://repository.example.edu/bitstream/handle/123456789/4242/consensus_aam.pdf"},
		{source: "unpaywall", id: "10.5555/hist.1998.003", closed: true},
		{source: "unpaywall", id: "10.5555/does-not-exist.0000", code: fulltext.CodeNotFound},
		{source: "crossref", id: "10.5555/jsim.2021.0042", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "crossref", id: "10.5555/hist.1998.003", first: "https://www.example-history-journals.com/doi/pdf/10.5555/hist.1998.003"},
		{source: "crossref", id: "10.5555/does-not-exist.0000", code: fulltext.CodeNotFound},
		{source: "europepmc", id: "10.5555/jsim.2021.0042", first: "https://europepmc.org/articles/PMC9990001?pdf=render"},
		{source: "europepmc", id: "10.5555/hist.1998.003", code: fulltext.CodeNotFound},
		{source: "pmc", id: "PMC9990001", first: "https://pmc-oa-opendata.s3.amazonaws.com/PMC9990001.1/PMC9990001.1.pdf"},
		{source: "semanticscholar", id: "10.5555/jsim.2021.0042", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "semanticscholar", id: "arXiv:1905.99123", first: "https://arxiv.org/pdf/1905.99123"},
		{source: "semanticscholar", id: "10.5555/hist.1998.003", closed: true},
		{source: "semanticscholar", id: "10.5555/does-not-exist.0000", code: fulltext.CodeNotFound},
		{source: "core", id: "10.5555/tcs.2019.117", first: "https://core.ac.uk/download/999000123.pdf"},
		{source: "doaj", id: "10.5555/jsim.2021.0042", first: "https://journals.example.org/jsim/article/10.5555/jsim.2021.0042/pdf"},
		{source: "zenodo", id: "10.5281/zenodo.9990002", first: "https://zenodo.org/api/records/9990002/files/consensus_preprint.pdf/content"},
		{source: "hal", id: "10.5555/tcs.2019.117", first: "https://hal.science/hal-09990002/document"},
		{source: "osf", id: "10.31219/osf.io/q7x2k", first: "https://osf.io/download/6a1b2c3d4e5f6a7b8c9d0e1f/"},
		{source: "figshare", id: "10.6084/m9.figshare.99900042", first: ""},
		{source: "wayback", id: cWork, first: "https://web.archive.org/web/20050314093012id_/http://www.example-history.org/papers/hanse1998.pdf"},
	}
	for _, tt := range tests {
		name := tt.source + " " + tt.id
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := New(tt.source, Config{APIKey: "TESTKEY"}, Deps{Client: client, Mailto: "ops@example.org", Clock: fulltext.NewStubClock(testNow)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := lookup(t, s, work(t, tt.id))
			if tt.code != "" {
				wantCode(t, err, tt.code, -1)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			first := ""
			if len(res.Candidates) > 0 {
				first = res.Candidates[0].URL
			}
			if first != tt.first || res.Closed != tt.closed {
				t.Fatalf("first candidate %q closed %v, want %q closed %v (all: %q)", first, res.Closed, tt.first, tt.closed, urls(res.Candidates))
			}
		})
	}
}

func TestManifestReplayQuery(t *testing.T) {
	t.Parallel()
	s, err := New("openalex", Config{APIKey: "TESTKEY"}, Deps{Client: replayClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = s.(*OpenAlex).Query(t.Context(), Query{Filter: "primary_topic.field.id:17|23,publication_year:2019-2021,is_oa:true,has_doi:true"}, "",
		func(ws []fulltext.Work, _ string) error {
			for _, w := range ws {
				ids = append(ids, w.IDs.OpenAlex)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"W9990000001", "W9990000002"}; !slices.Equal(ids, want) {
		t.Fatalf("works %q, want %q", ids, want)
	}
}

// isSubset reports whether every element of sub is in set (a Solr fl that
// asks for more fields than the manifest's still gets its answer).
func isSubset(sub, set []string) bool {
	for _, s := range sub {
		if !slices.Contains(set, s) {
			return false
		}
	}
	return true
}
