package source

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Figshare reads Figshare articles (apis.md §9.6): the article itself for
// a Figshare DOI (10.6084/m9.figshare.N), else the articles whose
// resource_doi is the work's DOI (POST /v2/articles/search). A PDF on
// Figshare is often a supplement, not the article: only PDF files whose
// name or item suggests the article itself are offered, marked with the
// technique "figshare-file". Safe for concurrent use.
type Figshare struct {
	base string
	c    *caller
}

var figshareDOIRe = regexp.MustCompile(`^10\.6084/m9\.figshare\.(\d+)(?:\.v\d+)?$`)

// maxFigshareArticles bounds the article reads after a search.
const maxFigshareArticles = 2

func newFigshare(cfg Config, c *caller) *Figshare {
	return &Figshare{base: base(cfg, DefaultBaseURL("figshare")), c: c}
}

// Name returns "figshare".
func (f *Figshare) Name() string { return "figshare" }

// Applicable reports whether w has a DOI.
func (f *Figshare) Applicable(w fulltext.Work) bool { return w.IDs.DOI != "" }

type figshareArticle struct {
	ID              int64  `json:"id"`
	Title           string `json:"title"`
	DOI             string `json:"doi"`
	ResourceDOI     string `json:"resource_doi"`
	DefinedTypeName string `json:"defined_type_name"`
	URLPublicHTML   string `json:"url_public_html"`
	License         struct {
		Name string `json:"name"`
	} `json:"license"`
	Files []struct {
		Name        string `json:"name"`
		IsLinkOnly  bool   `json:"is_link_only"`
		DownloadURL string `json:"download_url"`
		Mimetype    string `json:"mimetype"`
	} `json:"files"`
}

// Lookup returns the article PDFs of the matching items. No item is
// not-found; items whose files are all supplements give an empty Result.
func (f *Figshare) Lookup(ctx context.Context, w fulltext.Work) (Result, error) {
	if !f.Applicable(w) {
		return Result{}, notApplicable(f.Name())
	}
	var ids []int64
	if m := figshareDOIRe.FindStringSubmatch(w.IDs.DOI); m != nil {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "figshare: article id %q: %v", m[1], err)
		}
		ids = append(ids, id)
	} else {
		body, err := json.Marshal(map[string]any{"resource_doi": w.IDs.DOI, "page_size": 10})
		if err != nil {
			return Result{}, fulltext.Errorf(fulltext.CodeInternal, "figshare: encode search: %v", err)
		}
		r, err := f.c.fetch(ctx, http.MethodPost, f.base+"/v2/articles/search", http.Header{"Content-Type": {"application/json"}}, body)
		if err != nil {
			return Result{}, err
		}
		if err := f.c.statusError(r); err != nil {
			return Result{}, err
		}
		var hits []figshareArticle
		if err := f.c.decode(r, &hits); err != nil {
			return Result{}, err
		}
		for _, h := range hits {
			if strings.EqualFold(h.ResourceDOI, w.IDs.DOI) || strings.EqualFold(h.DOI, w.IDs.DOI) {
				ids = append(ids, h.ID)
			}
		}
		if len(ids) == 0 {
			return Result{}, fulltext.Errorf(fulltext.CodeNotFound, "figshare: no item for doi %s", w.IDs.DOI)
		}
	}
	var res Result
	cs := newCandidates(f.Name())
	for i, id := range ids {
		if i == maxFigshareArticles {
			break
		}
		var a figshareArticle
		if err := f.c.getJSON(ctx, f.base+"/v2/articles/"+strconv.FormatInt(id, 10), nil, &a); err != nil {
			return Result{}, err
		}
		if a.ID != id {
			return Result{}, fulltext.Errorf(fulltext.CodeResolverError, "figshare: asked for article %d, got %d", id, a.ID)
		}
		res.Title = cmpOr(res.Title, a.Title)
		for _, file := range a.Files {
			isPDF := file.Mimetype == "application/pdf" || strings.HasSuffix(strings.ToLower(file.Name), ".pdf")
			if !isPDF || file.IsLinkOnly || !figshareIsArticle(a, file.Name) {
				continue
			}
			cs.add(fulltext.Candidate{URL: file.DownloadURL, Technique: "figshare-file", License: shortLicense(a.License.Name)})
		}
	}
	res.Candidates = cs.done()
	return res, nil
}

// supplementWord reports whether w, a word of a file name, marks a file
// that accompanies an article.
func supplementWord(w string) bool {
	return supplementTitleWord(w) || slices.Contains([]string{"si", "dataset", "data", "figure", "figures",
		"table", "tables", "poster", "slides", "presentation"}, w)
}

// supplementTitleWord reports whether w, a word of an item's title, marks
// supplementary material. Only unambiguous words: an article may well be
// about "Missing Data" or "Si nanowires".
func supplementTitleWord(w string) bool {
	switch w {
	case "supplement", "supplementary", "supplemental", "suppl", "supporting", "appendix":
		return true
	}
	return false
}

// figshareIsArticle guesses whether the file called name in item a is the
// article itself: the item is of a paper-like type, no word of its title
// marks a supplement ("Supplementary material for: …"), and no word of the
// file name does ("S1.pdf", "figures.pdf", "data.pdf").
func figshareIsArticle(a figshareArticle, name string) bool {
	switch strings.ToLower(a.DefinedTypeName) {
	case "journal contribution", "preprint", "thesis", "conference contribution", "book", "chapter", "report", "":
	default:
		return false
	}
	words := func(text string) []string {
		return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9')
		})
	}
	if slices.ContainsFunc(words(a.Title), supplementTitleWord) {
		return false
	}
	for _, word := range words(strings.TrimSuffix(strings.ToLower(name), ".pdf")) {
		if supplementWord(word) || isSupplementNumber(word) {
			return false
		}
	}
	return true
}

// isSupplementNumber matches supplement labels like "s1", "s12".
func isSupplementNumber(w string) bool {
	if len(w) < 2 || w[0] != 's' {
		return false
	}
	_, err := strconv.Atoi(w[1:])
	return err == nil
}
