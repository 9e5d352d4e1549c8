package simweb

import (
	"embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// samples are the reference payloads of apis.md (copied from
// shared/reference/api-samples); manifest.json maps requests about the cast
// works to them.
//
//go:embed testdata/api-samples
var samples embed.FS

func sample(name string) []byte {
	b, err := samples.ReadFile("testdata/api-samples/" + name)
	if err != nil {
		// The file set is embedded at build time; a missing name is a bug
		// caught by the package tests.
		return []byte(fmt.Sprintf("simweb: missing sample %s", name))
	}
	return b
}

type manifestEntry struct {
	ID              string            `json:"id"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Status          int               `json:"status"`
	Variant         string            `json:"variant"`
	Body            *string           `json:"body"`
	ResponseHeaders map[string]string `json:"response_headers"`
	RequestHeaders  map[string]string `json:"request_headers"`

	host    string
	rawPath string
	path    string
	query   url.Values
}

// politeParams never decide which fixture answers (manifest conventions).
var politeParams = map[string]bool{"email": true, "mailto": true, "tool": true, "api_key": true}

// skippedEntries are answered by the generic handlers instead: they are
// about credentials or quotas, which the simulator checks itself or leaves
// to fault injection.
var skippedEntries = map[string]bool{
	"unpaywall-placeholder-email": true, "unpaywall-no-email": true,
	"openalex-works-cursor-nokey": true,
	// The list endpoint is served over the whole world.
	"openalex-works-page1": true, "openalex-works-page2": true, "openalex-works-bad-select": true,
}

// replay answers requests about the cast works exactly as manifest.json
// says. It is immutable after loadManifest.
type replay struct {
	entries []*manifestEntry
}

func loadManifest() (*replay, error) {
	var m struct {
		Entries []*manifestEntry `json:"entries"`
	}
	if err := json.Unmarshal(sample("manifest.json"), &m); err != nil {
		return nil, fmt.Errorf("simweb: load manifest: %w", err)
	}
	rp := &replay{}
	for _, e := range m.Entries {
		if skippedEntries[e.ID] || e.Status == http.StatusTooManyRequests || (e.Variant != "" && e.Variant != "bot-check" && e.Variant != "legacy") {
			continue
		}
		u, err := url.Parse(e.URL)
		if err != nil {
			return nil, fmt.Errorf("simweb: load manifest: entry %s: %w", e.ID, err)
		}
		e.host = strings.ToLower(u.Hostname())
		e.rawPath = u.EscapedPath()
		e.path = u.Path
		e.query = u.Query()
		for k := range e.query {
			if politeParams[k] {
				e.query.Del(k)
			}
		}
		rp.entries = append(rp.entries, e)
	}
	return rp, nil
}

// match returns the entry answering r, preferring an exact raw-path match
// and then the entry that pins the most query parameters.
func (rp *replay) match(host string, r *http.Request) *manifestEntry {
	var best *manifestEntry
	bestScore := -1
	q := r.URL.Query()
	for _, e := range rp.entries {
		if e.host != host || (e.Method != r.Method && !(r.Method == http.MethodHead && e.Method == http.MethodGet)) {
			continue
		}
		score := 0
		switch {
		case e.rawPath == r.URL.EscapedPath():
			score = 1000
		case e.path == r.URL.Path && host != "doi.org": // doi.org refuses %2F
			score = 500
		default:
			continue
		}
		ok := true
		for k, vs := range e.query {
			if !sameValues(vs, q[k]) && !(k == "fl" && coversFields(q[k], vs)) {
				ok = false
				break
			}
			score++
		}
		if !ok {
			continue
		}
		if accept := e.RequestHeaders["accept"]; accept != "" {
			if !strings.Contains(r.Header.Get("Accept"), accept) {
				continue
			}
			score++
		}
		if score > bestScore {
			best, bestScore = e, score
		}
	}
	return best
}

// coversFields reports whether a Solr field list (fl=a,b,c) asks for at
// least the fields of want: extra fields only add to the answer.
func coversFields(got, want []string) bool {
	if len(got) != 1 || len(want) != 1 {
		return false
	}
	have := strings.Split(got[0], ",")
	for f := range strings.SplitSeq(want[0], ",") {
		if !slices.Contains(have, f) {
			return false
		}
	}
	return true
}

func sameValues(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] {
			return false
		}
	}
	return true
}

func (e *manifestEntry) serve(w http.ResponseWriter, r *http.Request) {
	for k, v := range e.ResponseHeaders {
		w.Header().Set(k, v)
	}
	var body []byte
	if e.Body != nil {
		body = sample(*e.Body)
	}
	if e.Status == http.StatusOK && strings.HasSuffix(w.Header().Get("Content-Type"), "pdf") {
		if body == nil {
			// The manifest leaves the supplement's bytes open: a small
			// valid PDF that is not the article.
			body = buildPDF("Supplementary Material S1", "Supplement to https://doi.org/10.5555/jsim.2021.0042",
				rand.New(rand.NewPCG(1, 1)), 4<<10)
		}
		serveBytes(w, r, w.Header().Get("Content-Type"), body)
		return
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
