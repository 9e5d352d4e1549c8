package source

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestFigshareSupplementIsNotTheArticle(t *testing.T) {
	t.Parallel()
	s, f := setup(t, "figshare", Config{}, Deps{},
		post("/v2/articles/search", 200, `[{"id":99900042,"title":"Supplementary material for: Adaptive Sampling","resource_doi":"10.5555/jsim.2021.0042"}]`),
		serve("/v2/articles/99900042", 200, "figshare_article.json"))
	res, err := lookup(t, s, work(t, "10.5555/jsim.2021.0042"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 0 || res.Closed {
		t.Fatalf("result %+v", res)
	}
	reqs := f.requests()
	var body map[string]any
	if err := json.Unmarshal([]byte(reqs[0].body), &body); err != nil || body["resource_doi"] != "10.5555/jsim.2021.0042" {
		t.Errorf("search body %q (%v)", reqs[0].body, err)
	}
}

func TestFigshareArticleFiles(t *testing.T) {
	t.Parallel()
	article := `{"id":555,"title":"A Lower Bound for Distributed Consensus","doi":"10.6084/m9.figshare.555.v2","defined_type_name":"journal contribution",
	  "license":{"name":"CC BY 4.0","url":"https://creativecommons.org/licenses/by/4.0/"},
	  "files":[
	    {"name":"S1.pdf","download_url":"https://ndownloader.figshare.com/files/1","mimetype":"application/pdf"},
	    {"name":"consensus.pdf","download_url":"https://ndownloader.figshare.com/files/2","mimetype":"application/pdf"},
	    {"name":"figures.pdf","download_url":"https://ndownloader.figshare.com/files/3","mimetype":"application/pdf"},
	    {"name":"external.pdf","is_link_only":true,"download_url":"https://elsewhere.example.org/x.pdf"},
	    {"name":"counts.csv","download_url":"https://ndownloader.figshare.com/files/4","mimetype":"text/csv"}]}`
	s, f := setup(t, "figshare", Config{}, Deps{}, serveBody("/v2/articles/555", 200, article))
	res, err := lookup(t, s, work(t, "10.6084/m9.figshare.555.v2"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := urls(res.Candidates), []string{"https://ndownloader.figshare.com/files/2"}; !slices.Equal(got, want) {
		t.Fatalf("candidates %q, want %q", got, want)
	}
	if c := res.Candidates[0]; c.Technique != "figshare-file" || c.Kind != fulltext.KindPDF {
		t.Errorf("candidate %+v", c)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no search for a figshare doi)", n)
	}
}

func TestFigshareIsArticle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, title, file string
		want             bool
	}{
		{"journal contribution", "A Stable Method", "paper.pdf", true},
		{"preprint", "Consensus", "consensus_preprint.pdf", true},
		{"dataset", "Consensus", "consensus.pdf", false},
		{"journal contribution", "Supplementary material for: X", "x.pdf", false},
		{"journal contribution", "X", "jsim-2021-0042-supplement-S1.pdf", false},
		{"journal contribution", "X", "Table_S2.pdf", false},
		{"journal contribution", "Robust Inference with Missing Data", "sim-79.pdf", true},
		{"journal contribution", "Si Nanowire Figures of Merit", "article.pdf", true},
		{"journal contribution", "Robust Inference", "data.pdf", false},
		{"journal contribution", "Appendix to: Robust Inference", "x.pdf", false},
	}
	for _, tt := range tests {
		if got := figshareIsArticle(figshareArticle{DefinedTypeName: tt.typ, Title: tt.title}, tt.file); got != tt.want {
			t.Errorf("figshareIsArticle(%q, %q, %q) = %v", tt.typ, tt.title, tt.file, got)
		}
	}
}

func TestFigshareErrors(t *testing.T) {
	t.Parallel()
	const path = "/v2/articles/777"
	w := work(t, "10.6084/m9.figshare.777")
	for _, c := range errorCases(path) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "figshare", Config{}, Deps{}, c.opt)
			_, err := lookup(t, s, w)
			wantCode(t, err, c.code, c.after)
		})
	}
	t.Run("another article", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t, "figshare", Config{}, Deps{}, serve(path, 200, "figshare_article.json"))
		_, err := lookup(t, s, w)
		wantCode(t, err, fulltext.CodeResolverError, -1)
	})
	search := []struct {
		name string
		body string
		code fulltext.Code
	}{
		{"no item", `[]`, fulltext.CodeNotFound},
		{"item for another doi", `[{"id":1,"resource_doi":"10.5555/other"}]`, fulltext.CodeNotFound},
		{"not a list", `{"message":"x"}`, fulltext.CodeResolverError},
	}
	for _, c := range search {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := setup(t, "figshare", Config{}, Deps{}, post("/v2/articles/search", 200, c.body))
			_, err := lookup(t, s, work(t, "10.5555/"+strings.ReplaceAll(c.name, " ", "-")))
			wantCode(t, err, c.code, -1)
		})
	}
	transportCases(t, "figshare", Config{}, Deps{}, w, path)
}
