package download

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// TailSize is how many bytes from the end of a PDF are searched for %%EOF.
// Writers often append whitespace, NULs or a signature after the marker.
const TailSize = 2048

// HeadSize is how many leading bytes are sniffed.
const HeadSize = 1024

var (
	pdfMagic  = []byte("%PDF-")
	pdfEOF    = []byte("%%EOF")
	utf8BOM   = []byte{0xEF, 0xBB, 0xBF}
	htmlMarks = [][]byte{
		[]byte("<!doctype html"), []byte("<html"), []byte("<head"), []byte("<body"),
		[]byte("<script"), []byte("<meta"), []byte("<iframe"), []byte("<title"),
	}
	jsMarks = [][]byte{
		[]byte("window.location"), []byte("document.location"), []byte("document.write"),
		[]byte("location.href"), []byte("function("), []byte("function ("),
	}
)

// trimLeading drops a UTF-8 byte-order mark and leading white space (and
// NULs, which some servers pad with).
func trimLeading(b []byte) []byte {
	b = bytes.TrimPrefix(b, utf8BOM)
	return bytes.TrimLeft(b, " \t\r\n\f\x00")
}

func containsAny(lower []byte, marks [][]byte) bool {
	for _, m := range marks {
		if bytes.Contains(lower, m) {
			return true
		}
	}
	return false
}

// looksMarkup reports whether b (any case) looks like HTML or JavaScript.
func looksMarkup(b []byte) bool {
	lower := bytes.ToLower(b)
	return containsAny(lower, htmlMarks) || containsAny(lower, jsMarks)
}

// SniffKind says what kind of full text the leading bytes head are: KindPDF
// for "%PDF-" after an optional BOM and white space, KindXML for an XML
// document that is not XHTML, KindHTML for an HTML page, or "" when the
// bytes are none of these. The bytes decide; contentType (the response's
// Content-Type) only breaks the tie for text the bytes leave unclassified
// (a text/html or text/plain page is KindHTML). Pure; safe for concurrent
// use.
func SniffKind(head []byte, contentType string) fulltext.Kind {
	b := trimLeading(head)
	if bytes.HasPrefix(b, pdfMagic) {
		return fulltext.KindPDF
	}
	if len(b) > HeadSize {
		b = b[:HeadSize]
	}
	lower := bytes.ToLower(b)
	switch {
	case bytes.HasPrefix(lower, []byte("<?xml")), bytes.HasPrefix(lower, []byte("<!doctype article")),
		bytes.HasPrefix(lower, []byte("<article")), bytes.HasPrefix(lower, []byte("<!doctype pmc-articleset")),
		bytes.HasPrefix(lower, []byte("<pmc-articleset")):
		if bytes.Contains(lower, []byte("<html")) || bytes.Contains(lower, []byte("<!doctype html")) {
			return fulltext.KindHTML
		}
		return fulltext.KindXML
	case bytes.HasPrefix(lower, []byte("<")) && containsAny(lower, htmlMarks):
		return fulltext.KindHTML
	}
	for m := mimetype.Detect(head); m != nil; m = m.Parent() {
		switch {
		case m.Is("application/pdf"):
			return fulltext.KindPDF
		case m.Is("text/html"):
			return fulltext.KindHTML
		case m.Is("text/xml"), m.Is("application/xml"):
			return fulltext.KindXML
		}
	}
	switch ParseContentType(contentType) {
	case "text/html", "application/xhtml+xml", "text/plain":
		if looksText(b) {
			return fulltext.KindHTML
		}
	}
	return ""
}

// looksText reports whether b has no control characters besides white space.
func looksText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			return false
		}
	}
	return true
}

// isPDFType reports whether a media type claims a PDF.
func isPDFType(mediaType string) bool {
	return mediaType == "application/pdf" || mediaType == "application/x-pdf" || mediaType == "application/acrobat"
}

// ValidatePDF checks the structure of a PDF from its first bytes head, its
// last bytes tail (up to TailSize) and its size:
//
//   - size 0 → empty-body;
//   - no "%PDF-" after an optional BOM and white space → wrong-type (HTML
//     or JavaScript served as a PDF lands here);
//   - a header that is not "%PDF-d.d" → pdf-corrupt;
//   - no "%%EOF" in the tail → pdf-corrupt (a truncated file); bytes after
//     the marker are tolerated unless they are HTML or JavaScript
//     (wrong-type).
//
// The minimum size is the caller's policy (Config.MinPDFBytes). Errors are
// *fulltext.Error. Pure; safe for concurrent use.
func ValidatePDF(head, tail []byte, size int64) error {
	if size <= 0 {
		return fulltext.Errorf(fulltext.CodeEmptyBody, "empty body")
	}
	b := trimLeading(head)
	if !bytes.HasPrefix(b, pdfMagic) {
		if looksMarkup(head) {
			return fulltext.Errorf(fulltext.CodeWrongType, "html or javascript served as pdf")
		}
		return fulltext.Errorf(fulltext.CodeWrongType, "no %%PDF- header")
	}
	v := b[len(pdfMagic):]
	if len(v) < 3 || !isDigit(v[0]) || v[1] != '.' || !isDigit(v[2]) {
		return fulltext.Errorf(fulltext.CodePDFCorrupt, "broken pdf header %q", b[:min(len(b), 12)])
	}
	if len(tail) > TailSize {
		tail = tail[len(tail)-TailSize:]
	}
	i := bytes.LastIndex(tail, pdfEOF)
	if i < 0 {
		return fulltext.Errorf(fulltext.CodePDFCorrupt, "no %%%%EOF in the last %d bytes (truncated?)", len(tail))
	}
	if after := tail[i+len(pdfEOF):]; looksMarkup(after) {
		return fulltext.Errorf(fulltext.CodeWrongType, "html or javascript after %%%%EOF")
	}
	return nil
}

// PDFEncrypted reports whether the tail of a PDF (its trailer or
// cross-reference stream dictionary) refers to an /Encrypt dictionary. A
// heuristic: an encrypted PDF whose trailer is not in the tail is missed.
func PDFEncrypted(tail []byte) bool {
	return bytes.Contains(tail, []byte("/Encrypt"))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ValidateJATS reads r to its end and checks that it is a well-formed XML
// document whose root element is <article> (JATS), or a PMC OAI
// <pmc-articleset> wrapping one. HTML named entities (&nbsp;) are
// tolerated, as are UTF-8, US-ASCII and ISO-8859-1 encodings. Errors are
// *fulltext.Error with code wrong-type.
func ValidateJATS(r io.Reader) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charsetReader
	depth := 0
	var root string
	sawArticle := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &fulltext.Error{Code: fulltext.CodeWrongType, Err: fmt.Errorf("xml not well-formed: %w", err)}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					return fulltext.Errorf(fulltext.CodeWrongType, "xml has a second root element <%s>", t.Name.Local)
				}
				root = t.Name.Local
				if root != "article" && root != "pmc-articleset" {
					return fulltext.Errorf(fulltext.CodeWrongType, "xml root is <%s>, not <article>", root)
				}
			}
			if t.Name.Local == "article" && (depth == 0 || root == "pmc-articleset" && depth == 1) {
				sawArticle = true
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return fulltext.Errorf(fulltext.CodeWrongType, "text outside the root element")
			}
		}
	}
	if root == "" {
		return fulltext.Errorf(fulltext.CodeWrongType, "xml has no root element")
	}
	if !sawArticle {
		return fulltext.Errorf(fulltext.CodeWrongType, "no <article> in <%s>", root)
	}
	return nil
}

func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso_8859-1":
		return &latin1Reader{r: in}, nil
	}
	return nil, fmt.Errorf("unsupported xml encoding %q", label)
}

// latin1Reader decodes ISO-8859-1 to UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 2048)
		}
		n, err := l.r.Read(l.buf)
		for _, c := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
