package verify

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// asked is the work as the cascade knows it: identifiers and title.
func asked(wk simweb.Work) fulltext.Work {
	return fulltext.Work{IDs: wk.IDs, Title: wk.Title}
}

// TestPDFAgainstTheWorld checks every generated work's PDF against its own
// work (match) and against its neighbour's (never a match; a mismatch when
// the neighbour's title or identifiers clearly differ).
func TestPDFAgainstTheWorld(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	world := simweb.NewWorld(simweb.Config{Works: 45, Seed: 7, Hostile: true}).Works
	pdfs := make([][]byte, len(world))
	for i, wk := range world {
		pdfs[i] = wk.PDF()
	}
	mismatches := 0
	for i, wk := range world[3:] {
		if rep := c.PDF(pdfs[3+i], asked(wk)); rep.Verdict != Match || rep.Pages < 1 || rep.Preview || rep.Encrypted {
			t.Errorf("%s (%s): own pdf: %v", wk.Title, wk.Route, rep)
		}
		j := 3 + (i+1)%(len(world)-3)
		other := world[j]
		if other.Title == wk.Title {
			continue
		}
		rep := c.PDF(pdfs[j], asked(wk))
		if rep.Verdict == Match {
			t.Errorf("%q %v: the pdf of %q %v matched: %v", wk.Title, wk.IDs, other.Title, other.IDs, rep)
		}
		if rep.Verdict == Mismatch {
			mismatches++
		}
	}
	// Most neighbours differ by identifier or title; a few share too many
	// title words and stay inconclusive.
	if mismatches < (len(world)-3)*3/4 {
		t.Errorf("only %d of %d foreign pdfs were a mismatch", mismatches, len(world)-3)
	}
}

// TestHostileWorkRoute: the hostile-other-work work is told apart from the
// PDF it is served (the cascade then tries the next candidate).
func TestHostileOtherWork(t *testing.T) {
	t.Parallel()
	world := simweb.NewWorld(simweb.Config{Works: 40, Seed: 7, Hostile: true}).Works
	c := New(Config{})
	found := false
	for i, wk := range world {
		if wk.Route != simweb.RouteOtherWork {
			continue
		}
		found = true
		other := world[(i+1)%len(world)]
		if rep := c.PDF(other.PDF(), asked(wk)); rep.Verdict != Mismatch {
			t.Errorf("%q vs %q: %v", wk.Title, other.Title, rep)
		}
	}
	if !found {
		t.Fatal("no hostile-other-work work in the world")
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	work := fulltext.Work{IDs: fulltext.IDs{DOI: "10.5555/abc.1"}, Title: "Sparse Inference of Soil Microbiomes"}
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 10)
	tests := []struct {
		name string
		w    fulltext.Work
		ev   evidence
		want Verdict
	}{
		{"our doi declared", work, evidence{declaredIDs: []ident{{fulltext.KindDOI, "10.5555/abc.1"}}}, Match},
		{"our doi on page 1 among others", work, evidence{textIDs: []ident{{fulltext.KindDOI, "10.1/x"}, {fulltext.KindDOI, "10.5555/abc.1"}}}, Match},
		{"title on page 1", work, evidence{text: "Sparse inference of soil microbiomes " + filler}, Match},
		{"title in info", work, evidence{declaredTitles: []string{"Sparse Inference of Soil Microbiomes: a study"}}, Match},
		{"other doi declared", work, evidence{declaredIDs: []ident{{fulltext.KindDOI, "10.5555/other"}}}, Mismatch},
		{"other doi cited on page 1, title there", work, evidence{text: "Sparse inference of soil microbiomes " + filler, textIDs: []ident{{fulltext.KindDOI, "10.1/cited"}}}, Match},
		{"other doi on page 1, no title", work, evidence{text: filler, textIDs: []ident{{fulltext.KindDOI, "10.1/other"}}}, Mismatch},
		{"other title in info and not on page 1", work, evidence{declaredTitles: []string{"Hanseatic Trade Networks Revisited"}, text: filler}, Mismatch},
		{"other title in info, no text", work, evidence{declaredTitles: []string{"Hanseatic Trade Networks Revisited"}}, Inconclusive},
		{"junk info title", work, evidence{declaredTitles: []string{"Microsoft Word - draft7.docx"}, text: filler}, Inconclusive},
		{"doi of an unknown scheme for us", fulltext.Work{IDs: fulltext.IDs{OpenAlex: "W1"}}, evidence{declaredIDs: []ident{{fulltext.KindDOI, "10.1/x"}}}, Inconclusive},
		{"nothing known", fulltext.Work{}, evidence{text: filler}, Inconclusive},
		{"empty document", work, evidence{}, Inconclusive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, why := decide(tt.w, tt.ev); got != tt.want {
				t.Errorf("decide = %s (%s), want %s", got, why, tt.want)
			}
		})
	}
}

// minimalPDF builds a one-page PDF whose page shows lines and whose Info
// has title; extra is appended to the catalog dictionary.
func minimalPDF(title string, lines []string, pagesKids string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 12 Tf 72 720 Td 14 TL\n")
	for _, l := range lines {
		fmt.Fprintf(&content, "(%s) Tj T*\n", l)
	}
	content.WriteString("ET")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [" + pagesKids + "] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", content.Len(), content.String()),
		fmt.Sprintf("<< /Title (%s) >>", title),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

func TestPDFPreviewAndHostile(t *testing.T) {
	t.Parallel()
	w := fulltext.Work{IDs: fulltext.IDs{DOI: "10.5555/p.1"}, Title: "Latent Signals across Alpine Valleys"}
	c := New(Config{})

	preview := minimalPDF("Latent Signals across Alpine Valleys", []string{"Latent Signals across Alpine Valleys", "doi:10.5555/p.1", "This is a preview. Purchase the full article to read on."}, "3 0 R")
	if rep := c.PDF(preview, w); !rep.Preview || rep.Verdict != Match || rep.Pages != 1 {
		t.Errorf("preview: %v", rep)
	}
	article := minimalPDF("Latent Signals across Alpine Valleys", []string{"Latent Signals across Alpine Valleys", "We sample the valleys."}, "3 0 R")
	if rep := c.PDF(article, w); rep.Preview || rep.Verdict != Match {
		t.Errorf("article: %v", rep)
	}
	// A page tree whose kid is the tree itself: the byte budget stops the
	// walk, and so does the time budget (a clock that jumps 1s per call).
	cyclic := bytes.Replace(minimalPDF("x", []string{"x"}, "2 0 R"), []byte("/Type /Pages /Kids [2 0 R] /Count 1"), []byte("/Type /Pages /Kids [2 0 R] /Count 9"), 1)
	for name, cc := range map[string]*Checker{
		"bytes": New(Config{MaxReadBytes: 256 << 10, MaxTime: time.Hour}),
		"time":  New(Config{MaxReadBytes: 1 << 40, MaxTime: 10 * time.Second, Clock: &steppingClock{}}),
	} {
		if rep := cc.PDF(cyclic, w); rep.Verdict != Inconclusive || !strings.Contains(rep.Reason, "budget") {
			t.Errorf("cyclic, %s budget: %v", name, rep)
		}
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("%PDF-1.4\n\x00\x01 garbage %%EOF"),
		"truncated": article[:len(article)/2],
		"html":      []byte("<html><body>not a pdf</body></html>"),
	} {
		if rep := c.PDF(data, w); rep.Verdict != Inconclusive {
			t.Errorf("%s: %v", name, rep)
		}
	}
}

// steppingClock advances one second at every call.
type steppingClock struct{ now time.Time }

func (c *steppingClock) Now() time.Time {
	c.now = c.now.Add(time.Second)
	return c.now
}

func TestJATSAndHTML(t *testing.T) {
	t.Parallel()
	w := fulltext.Work{IDs: fulltext.IDs{DOI: "10.5555/j.1", PMCID: "PMC123"}, Title: "Dynamic Archives for Citation Graphs"}
	c := New(Config{})
	jats := func(doi, title string) []byte {
		return []byte(`<?xml version="1.0"?><article><front><article-meta>
<article-id pub-id-type="doi">` + doi + `</article-id>
<title-group><article-title>` + title + `</article-title></title-group>
<abstract><p>We study things.</p></abstract></article-meta></front><body><p>text</p></body></article>`)
	}
	for _, tt := range []struct {
		name string
		data []byte
		want Verdict
	}{
		{"ours", jats("10.5555/J.1", "Dynamic Archives for Citation Graphs"), Match},
		{"other doi", jats("10.5555/j.2", "Something Else Entirely Here"), Mismatch},
		{"no ids, our title", jats("", "Dynamic Archives for Citation Graphs"), Match},
		{"not xml", []byte("garbage"), Inconclusive},
	} {
		if rep := c.JATS(tt.data, w); rep.Verdict != tt.want {
			t.Errorf("jats %s: %v, want %s", tt.name, rep, tt.want)
		}
	}
	page := func(doi, title string) []byte {
		return []byte(`<!doctype html><html><head><title>` + title + ` | Journal</title>
<meta name="citation_doi" content="` + doi + `"><meta name="citation_title" content="` + title + `"></head>
<body><h1>` + title + `</h1><p>Full text.</p></body></html>`)
	}
	for _, tt := range []struct {
		name string
		data []byte
		want Verdict
	}{
		{"ours", page("10.5555/j.1", "Dynamic Archives for Citation Graphs"), Match},
		{"other", page("10.5555/j.9", "Robust Bounds in Coastal Wetlands"), Mismatch},
		{"bare", []byte("<html><body><p>hello</p></body></html>"), Inconclusive},
	} {
		if rep := c.HTML(tt.data, w); rep.Verdict != tt.want {
			t.Errorf("html %s: %v, want %s", tt.name, rep, tt.want)
		}
	}
}

// BenchmarkPDF measures a check of a simulated 20–120 KiB article.
func BenchmarkPDF(b *testing.B) {
	world := simweb.NewWorld(simweb.Config{Works: 20, Seed: 7}).Works
	var wk simweb.Work
	for _, w := range world[3:] {
		if len(w.PDF()) > len(wk.PDF()) {
			wk = w
		}
	}
	data := wk.PDF()
	c := New(Config{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if rep := c.PDF(data, asked(wk)); rep.Verdict != Match {
			b.Fatal(rep)
		}
	}
}

// FuzzCoverage holds the streaming title coverage to its definition: the
// share of the title's tokens in the set of the text's tokens.
func FuzzCoverage(f *testing.F) {
	f.Add("Deep Learning for Cell Biology", "deep LEARNING, cell; biology ÉTUDE étude")
	f.Add("Ünïcode Straße title", "ünïcode STRASSE straße TITLE")
	f.Add("a b", "")
	f.Fuzz(func(t *testing.T, title, text string) {
		want := significant(title)
		got := coverage(want, text)
		def := containment(want, setOf(tokens(text)))
		if got != def {
			t.Fatalf("coverage(%q, %q) = %v, containment = %v", want, text, got, def)
		}
		if n, all := countFields(text, 20), len(strings.Fields(text)); n != min(all, 20) {
			t.Fatalf("countFields(%q, 20) = %d, strings.Fields has %d", text, n, all)
		}
	})
}

// BenchmarkPDFRawScan measures the check of a PDF the parser cannot open
// (no cross-reference table: simweb's bulk files), which falls back to a
// scan of the raw bytes.
func BenchmarkPDFRawScan(b *testing.B) {
	line := "BT /F1 10 Tf 72 750 Td (the model data sample survey estimate observed rate) Tj ET\n"
	data := []byte("%PDF-1.4\n1 0 obj\n<< /Title (bulk-1) >>\nendobj\n2 0 obj\n<< >>\nstream\n" +
		strings.Repeat(line, 100<<10/len(line)) + "\nendstream\nendobj\ntrailer\n<< /Info 1 0 R >>\n%%EOF\n")
	w := fulltext.Work{IDs: fulltext.IDs{DOI: "10.1234/bulk.1"}, Title: "A study of the bulk transfer of scholarly files"}
	c := New(Config{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if rep := c.PDF(data, w); rep.Verdict != Inconclusive {
			b.Fatal(rep)
		}
	}
}

func TestContainsFold(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"see arXiv:2101.00001", true}, {"ARXIV", true}, {"arxi", false}, {"", false},
		{"x OpenAlex.org/W123", true}, {"aRxIv", true}, {"ar xiv", false},
	} {
		sub := "arxiv"
		if strings.Contains(strings.ToLower(tt.s), "openalex") {
			sub = "openalex"
		}
		if got := containsFold(tt.s, sub); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tt.s, sub, got, tt.want)
		}
	}
}
