package landing

import (
	"testing"
)

func TestBuildURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pageURL   string
		hint      Hint
		want      string // first URL; "" for none
		technique string
	}{
		{"arxiv id", "", Hint{ArXiv: "arXiv:1905.99123v2"}, "https://arxiv.org/pdf/1905.99123", "id:arxiv"},
		{"old arxiv id", "", Hint{ArXiv: "math/0309999"}, "https://arxiv.org/pdf/math/0309999", "id:arxiv"},
		{"arxiv DOI", "", Hint{DOI: "10.48550/arXiv.2301.04567"}, "https://arxiv.org/pdf/2301.04567", "id:arxiv"},
		{"pmcid", "", Hint{PMCID: "pmc9990001"}, "https://europepmc.org/articles/PMC9990001?pdf=render", "id:europepmc-render"},
		{"plos DOI", "", Hint{DOI: "10.1371/journal.pbio.3001234"}, "https://journals.plos.org/plosbiology/article/file?id=10.1371/journal.pbio.3001234&type=printable", "id:plos"},
		{"wiley abs", "https://onlinelibrary.wiley.com/doi/abs/10.1002/ece3.1234", Hint{}, "https://onlinelibrary.wiley.com/doi/pdfdirect/10.1002/ece3.1234", "pattern:wiley-pdfdirect"},
		{"wiley pdf", "https://onlinelibrary.wiley.com/doi/pdf/10.1002/ece3.1234", Hint{}, "https://onlinelibrary.wiley.com/doi/pdfdirect/10.1002/ece3.1234", "pattern:wiley-pdfdirect"},
		{"atypon full", "https://www.tandfonline.com/doi/full/10.1080/1234.2020.1", Hint{}, "https://www.tandfonline.com/doi/pdf/10.1080/1234.2020.1", "pattern:atypon-pdf"},
		{"mdpi", "https://www.mdpi.com/2072-4292/15/4/1234", Hint{}, "https://www.mdpi.com/2072-4292/15/4/1234/pdf", "pattern:mdpi"},
		{"plos page", "https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0299999", Hint{}, "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0299999&type=printable", "pattern:plos"},
		{"ojs view", "https://j.example/index.php/j/article/view/12/34", Hint{}, "https://j.example/index.php/j/article/download/12/34", "pattern:ojs"},
		{"ojs landing without galley", "https://j.example/index.php/j/article/view/12", Hint{}, "", ""},
		{"springer", "https://link.springer.com/article/10.1007/s00442-020-04600-1", Hint{}, "https://link.springer.com/content/pdf/10.1007/s00442-020-04600-1.pdf", "pattern:springer"},
		{"nature", "https://www.nature.com/articles/s41586-020-2649-2", Hint{}, "https://www.nature.com/articles/s41586-020-2649-2.pdf", "pattern:nature"},
		{"frontiers", "https://www.frontiersin.org/articles/10.3389/fpsyg.2020.01234/full", Hint{}, "https://www.frontiersin.org/articles/10.3389/fpsyg.2020.01234/pdf", "pattern:frontiers"},
		{"biorxiv", "https://www.biorxiv.org/content/10.1101/2022.10.10.511111v1", Hint{}, "https://www.biorxiv.org/content/10.1101/2022.10.10.511111v1.full.pdf", "pattern:biorxiv"},
		{"hal", "https://hal.science/hal-03412345v2", Hint{}, "https://hal.science/hal-03412345v2/document", "pattern:hal"},
		{"pmc page", "https://pmc.ncbi.nlm.nih.gov/articles/PMC123456/", Hint{}, "https://europepmc.org/articles/PMC123456?pdf=render", "pattern:pmc-europepmc"},
		{"ieee", "https://ieeexplore.ieee.org/document/9412345", Hint{}, "https://ieeexplore.ieee.org/stamp/stamp.jsp?tp=&arnumber=9412345", "pattern:ieee"},
		{"ssrn", "https://papers.ssrn.com/sol3/papers.cfm?abstract_id=3840001", Hint{}, "https://papers.ssrn.com/sol3/Delivery.cfm?abstractid=3840001", "pattern:ssrn"},
		{"osf", "https://osf.io/preprints/psyarxiv/k7m2p", Hint{}, "https://osf.io/k7m2p/download", "pattern:osf"},
		{"arxiv abs", "https://arxiv.org/abs/2301.04567v2", Hint{}, "https://arxiv.org/pdf/2301.04567v2", "pattern:arxiv"},
		{"doi.org is no pattern", "https://doi.org/10.1000/doi/abs/1", Hint{}, "", ""},
		{"unknown host", "https://example.org/paper/1", Hint{}, "", ""},
		{"garbage", "::not a url", Hint{ArXiv: "nonsense", PMCID: "x"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := BuildURLs(tt.pageURL, tt.hint)
			checkInvariants(t, Result{Verdict: VerdictArticle, Links: got})
			if tt.want == "" {
				if len(got) > 0 {
					t.Fatalf("BuildURLs = %+v, want none", got)
				}
				return
			}
			if len(got) == 0 || got[0].URL != tt.want || got[0].Technique != tt.technique {
				t.Fatalf("BuildURLs = %+v, want first %s (%s)", got, tt.want, tt.technique)
			}
		})
	}
}

func TestBuildURLsOrder(t *testing.T) {
	t.Parallel()
	got := BuildURLs("https://pmc.ncbi.nlm.nih.gov/articles/PMC9990001/", Hint{ArXiv: "1905.99123", PMCID: "PMC9990001"})
	if len(got) != 2 || got[0].Technique != "id:arxiv" || got[1].URL != "https://europepmc.org/articles/PMC9990001?pdf=render" {
		t.Fatalf("BuildURLs = %+v, want arXiv first then one Europe PMC render", got)
	}
}
