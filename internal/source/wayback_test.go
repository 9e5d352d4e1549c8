package source

import (
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const (
	hanse     = "http://www.example-history.org/papers/hanse1998.pdf"
	cdxPath   = "/cdx/search/cdx"
	availPath = "/wayback/available"
)

// closedWork is C with a record naming its long-gone author copy.
func closedWork(t *testing.T) fulltext.Work {
	t.Helper()
	return work(t, `{"id":"https://openalex.org/W9990000003","doi":"https://doi.org/10.5555/hist.1998.003","publication_year":1998,
	  "open_access":{"is_oa":false,"oa_url":null},
	  "primary_location":{"is_oa":false,"landing_page_url":"https://doi.org/10.5555/hist.1998.003","pdf_url":null},
	  "locations":[{"is_oa":false,"landing_page_url":"https://www.example-history-journals.com/doi/10.5555/hist.1998.003","pdf_url":"`+hanse+`"}]}`)
}

func TestWaybackCandidates(t *testing.T) {
	t.Parallel()
	capture := func(ts, u string) string { return "https://web.archive.org/web/" + ts + "id_/" + u }
	tests := []struct {
		name     string
		opts     []fakeOption
		want     []string
		tech     string
		requests int
	}{
		{name: "cdx", opts: []fakeOption{serve(cdxPath+"?url="+hanse+"&from=1997&to=2013&limit=5&output=json", 200, "wayback_cdx.json")},
			want:     []string{capture("20050314093012", hanse), capture("20060921174455", "http://www.example-history.org:80/papers/hanse1998.pdf")},
			tech:     "wayback-cdx",
			requests: 1},
		{name: "cdx ignoring filters is filtered here", opts: []fakeOption{serve(cdxPath, 200, "wayback_cdx_all.json")},
			want:     []string{capture("20050314093012", hanse), capture("20060921174455", "http://www.example-history.org:80/papers/hanse1998.pdf")},
			tech:     "wayback-cdx",
			requests: 1},
		{name: "availability fallback", opts: []fakeOption{
			serve(cdxPath, 200, "wayback_cdx_empty.json"),
			serve(availPath+"?url="+hanse+"&timestamp=19980101", 200, "wayback_available.json")},
			want: []string{capture("20050314093012", hanse)}, tech: "wayback-available", requests: 2},
		{name: "availability after a cdx 503", opts: []fakeOption{
			serveBody(cdxPath, 503, ""),
			serve(availPath, 200, "wayback_available.json")},
			want: []string{capture("20050314093012", hanse)}, tech: "wayback-available", requests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "wayback", Config{}, Deps{}, tt.opts...)
			res, err := lookup(t, s, closedWork(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := urls(res.Candidates); !slices.Equal(got, tt.want) {
				t.Fatalf("candidates\n got %q\nwant %q", got, tt.want)
			}
			for _, c := range res.Candidates {
				if c.Technique != tt.tech || c.Kind != fulltext.KindPDF || c.Landing {
					t.Errorf("candidate %+v", c)
				}
			}
			reqs := f.requests()
			if len(reqs) != tt.requests {
				t.Errorf("%d requests, want %d", len(reqs), tt.requests)
			}
			if q := reqs[0].url.Query(); !slices.Equal(q["filter"], []string{"statuscode:200", "mimetype:application/pdf"}) || q.Get("fl") == "" {
				t.Errorf("cdx query %v", q)
			}
		})
	}
}

func TestWaybackNothing(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "wayback", Config{}, Deps{},
		serve(cdxPath, 200, "wayback_cdx_empty.json"),
		serve(availPath, 200, "wayback_available_none.json"))
	_, err := lookup(t, s, closedWork(t))
	wantCode(t, err, fulltext.CodeNoCapture, -1)
	// Two URLs (the pdf_url and the publisher landing page), two calls each.
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestWaybackLookupURLs(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "wayback", Config{}, Deps{}, serve(cdxPath+"?url="+hanse, 200, "wayback_cdx.json"))
	wb := s.(*Wayback)
	w := work(t, "10.5555/hist.1998.003")
	if wb.Applicable(w) {
		t.Error("applicable without a record")
	}
	res, err := wb.LookupURLs(t.Context(), w, []string{hanse})
	if err != nil || len(res.Candidates) != 2 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if q := f.requests()[0].url.Query(); q.Has("from") || q.Has("to") {
		t.Errorf("year window without a year: %v", q)
	}
}

func TestWaybackErrors(t *testing.T) {
	t.Parallel()
	w := closedWork(t)
	for _, c := range errorCases(cdxPath) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, f := setup(t, "wayback", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
			if c.code == fulltext.CodeRateLimited && len(f.requests()) != 1 {
				t.Errorf("kept asking after a 429: %d requests", len(f.requests()))
			}
		})
	}
	others := []struct {
		name string
		opts []fakeOption
		code fulltext.Code
	}{
		{"cdx header without timestamp", []fakeOption{serveBody(cdxPath, 200, `[["original"],["x"]]`)}, fulltext.CodeResolverError},
		{"cdx ragged row", []fakeOption{serveBody(cdxPath, 200, `[["timestamp","original"],["2005"]]`)}, fulltext.CodeResolverError},
		{"cdx bad timestamp", []fakeOption{serveBody(cdxPath, 200, `[["timestamp","original"],["yesterday","x"]]`)}, fulltext.CodeResolverError},
		{"availability malformed", []fakeOption{serve(cdxPath, 200, "wayback_cdx_empty.json"), serveBody(availPath, 200, `{"url":"x"}`)}, fulltext.CodeResolverError},
		{"availability 429", []fakeOption{serve(cdxPath, 200, "wayback_cdx_empty.json"), serveBody(availPath, 429, ``, "Retry-After", "60")}, fulltext.CodeRateLimited},
	}
	for _, c := range others {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "wayback", Config{}, Deps{}, c.opts...)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "wayback", Config{}, Deps{}, w, cdxPath)
}
