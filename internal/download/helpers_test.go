package download_test

import (
	"bytes"
	"fmt"
	"strings"
)

// makePDF returns a small but structurally real PDF (header, objects,
// xref, trailer, %%EOF) whose content stream pads it to about size bytes.
func makePDF(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>")
	text := "BT /F1 12 Tf 72 712 Td (A study of simulated scholarship.) Tj ET\n"
	if pad := size - 600; pad > len(text) {
		text += strings.Repeat("% lorem ipsum dolor sit amet consectetur\n", (pad-len(text))/41+1)
	}
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(text), text))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

const jatsDoc = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<front><article-meta><article-id pub-id-type="doi">10.5555/jsim.2021.0042</article-id>
<title-group><article-title>A study&nbsp;of simulated scholarship</article-title></title-group></article-meta></front>
<body><sec><title>Introduction</title><p>Text &amp; more text.</p></sec></body>
</article>
`

const landingHTML = `<!DOCTYPE html>
<html><head><title>A study of simulated scholarship</title>
<meta name="citation_pdf_url" content="https://pub.example/x.pdf"></head>
<body><h1>A study</h1><a href="/x.pdf">PDF</a></body></html>
`
