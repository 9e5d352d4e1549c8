package landing

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

var update = flag.Bool("update", false, "rewrite the corpus golden files")

// corpusCase is one entry of testdata/corpus/requests.json: how the page was
// fetched and what a person (not the golden file) expects of it.
type corpusCase struct {
	URL    string              `json:"url"`
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"`
	Hint   Hint                `json:"hint"`
	Expect struct {
		Verdict   Verdict `json:"verdict"`
		First     *string `json:"first"` // "" = no links at all
		Technique string  `json:"technique"`
		Code      string  `json:"code"`
		// Absent lists URLs that must not be among the links.
		Absent []string `json:"absent"`
	} `json:"expect"`
}

// golden is what testdata/corpus/<name>.json holds.
type golden struct {
	Code   fulltext.Code `json:"code"`
	Result Result        `json:"result"`
}

func loadCorpus(t testing.TB) (map[string]corpusCase, []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]corpusCase{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("requests.json: %v", err)
	}
	pages, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(pages)
	return cases, pages
}

func (c corpusCase) header() http.Header {
	h := http.Header{}
	for k, vs := range c.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	cases, pages := loadCorpus(t)
	if len(pages) < 40 {
		t.Errorf("corpus has %d pages, want at least 40", len(pages))
	}
	seen := map[string]bool{}
	for _, path := range pages {
		name := strings.TrimSuffix(filepath.Base(path), ".html")
		seen[name] = true
		tc, ok := cases[name]
		if !ok {
			t.Errorf("%s: no entry in requests.json", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			status := tc.Status
			if status == 0 {
				status = http.StatusOK
			}
			got := Extract(tc.URL, status, tc.header(), body, tc.Hint)
			checkInvariants(t, got)
			checkExpect(t, tc, got)
			for _, l := range got.Links {
				if !slices.Contains(Techniques(), l.Technique) {
					t.Errorf("technique %q of %s is not in Techniques()", l.Technique, l.URL)
				}
			}

			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(golden{Code: got.Code(), Result: got}); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			goldenPath := strings.TrimSuffix(path, ".html") + ".json"
			if *update {
				if err := os.WriteFile(goldenPath, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(want, out) {
				t.Errorf("golden mismatch for %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, out, want)
			}
		})
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("requests.json entry %q has no page", name)
		}
	}
}

func checkExpect(t *testing.T, tc corpusCase, got Result) {
	t.Helper()
	if got.Verdict != tc.Expect.Verdict {
		t.Errorf("verdict = %q, want %q", got.Verdict, tc.Expect.Verdict)
	}
	if tc.Expect.Code != "" && string(got.Code()) != tc.Expect.Code {
		t.Errorf("code = %q, want %q", got.Code(), tc.Expect.Code)
	}
	if tc.Expect.First != nil {
		switch {
		case *tc.Expect.First == "" && len(got.Links) > 0:
			t.Errorf("links = %+v, want none", got.Links)
		case *tc.Expect.First != "" && len(got.Links) == 0:
			t.Errorf("no links, want first %s", *tc.Expect.First)
		case *tc.Expect.First != "" && got.Links[0].URL != *tc.Expect.First:
			t.Errorf("first link = %s (%s), want %s; links %+v", got.Links[0].URL, got.Links[0].Technique, *tc.Expect.First, got.Links)
		}
	}
	if tc.Expect.Technique != "" && len(got.Links) > 0 && got.Links[0].Technique != tc.Expect.Technique {
		t.Errorf("first technique = %q, want %q", got.Links[0].Technique, tc.Expect.Technique)
	}
	for _, bad := range tc.Expect.Absent {
		for _, l := range got.Links {
			if l.URL == bad {
				t.Errorf("link %s (%s) must not be found", bad, l.Technique)
			}
		}
	}
}

// TestCorpusBodyAlone checks what `oafetch extract` sees: each page read
// without its status and headers still gets its expected verdict.
func TestCorpusBodyAlone(t *testing.T) {
	t.Parallel()
	cases, pages := loadCorpus(t)
	for _, path := range pages {
		name := strings.TrimSuffix(filepath.Base(path), ".html")
		tc, ok := cases[name]
		if !ok {
			continue // reported by TestCorpus
		}
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := Extract(tc.URL, 0, nil, body, tc.Hint)
		if got.Verdict != tc.Expect.Verdict {
			t.Errorf("%s without status and headers: verdict %q, want %q", name, got.Verdict, tc.Expect.Verdict)
		}
	}
}
