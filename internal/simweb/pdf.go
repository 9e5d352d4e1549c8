package simweb

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

var bodyWords = strings.Fields(`the of model data sample survey estimate observed rate under
	with across network signal bound measure method protocol result analysis figure table
	section proof lemma theorem variance error population field record archive site species
	sensor cohort trial treatment effect baseline interval distribution parameter prior
	posterior likelihood algorithm round message link failure partition recovery`)

// castPDFs are the samples served as the cast's full texts.
var castPDFs = []string{"sample_article.pdf", "sample_aam.pdf", "sample_archived.pdf"}

// PDF returns the full text of wk: for a generated work, a valid
// multi-page PDF 1.4 of 20 to 120 KiB whose bytes depend only on the work
// (its index, title and ids), the first page and the Info dictionary
// carrying the title and the DOI (or the work's other identifier when it
// has no DOI); for the cast A, B and C, the sample PDFs (about 1 KiB).
func (wk Work) PDF() []byte {
	if wk.Route == RouteCast && wk.n < len(castPDFs) {
		return sample(castPDFs[wk.n])
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s|%s", wk.n, wk.Title, wk.key())
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(wk.n)))
	target := 20<<10 + rng.IntN(100<<10)
	ident := wk.identLine()
	return buildPDF(wk.Title, ident, rng, target)
}

func (wk Work) identLine() string {
	switch {
	case wk.IDs.DOI != "":
		return "https://doi.org/" + wk.IDs.DOI
	case wk.IDs.ArXiv != "":
		return "arXiv:" + wk.IDs.ArXiv
	}
	return "https://openalex.org/" + wk.IDs.OpenAlex
}

// pdfString escapes s as a PDF literal string; non-ASCII runes become '?'.
func pdfString(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 32 || r > 126:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// buildPDF writes pages of text until the file reaches about target bytes.
// Objects: 1 catalog, 2 pages, 3 font, 4 info, then page/content pairs.
func buildPDF(title, ident string, rng *rand.Rand, target int) []byte {
	var pages []string
	size := 0
	first := true
	for size < target || len(pages) == 0 {
		var c strings.Builder
		c.WriteString("BT\n/F1 10 Tf\n72 750 Td\n12 TL\n")
		if first {
			fmt.Fprintf(&c, "/F1 16 Tf\n%s Tj\n/F1 10 Tf\nT*\n%s Tj\nT*\n", pdfString(title), pdfString(ident))
			first = false
		}
		for range 52 {
			var line strings.Builder
			for line.Len() < 80 {
				line.WriteString(bodyWords[rng.IntN(len(bodyWords))])
				line.WriteByte(' ')
			}
			fmt.Fprintf(&c, "%s Tj T*\n", pdfString(strings.TrimSpace(line.String())))
		}
		c.WriteString("ET\n")
		pages = append(pages, c.String())
		size += c.Len() + 200
	}
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 5+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	obj(fmt.Sprintf("<< /Title %s /Subject %s /Producer (oafetch simweb) >>", pdfString(title), pdfString(ident)))
	for i, p := range pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 6+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(p), p))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
