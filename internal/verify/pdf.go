package verify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// errBudget is raised (as a panic, through the parser) when a check has
// read MaxReadBytes or run MaxTime.
var errBudget = errors.New("read or time budget exhausted")

// budgetReader is the parser's view of the file: every ReadAt counts
// against the byte budget and checks the time budget. The parser re-reads
// an object on every reference, so a reference cycle exhausts the budget
// instead of looping.
type budgetReader struct {
	data     []byte
	left     int64
	deadline time.Time
	clock    fulltext.Clock
}

func (b *budgetReader) ReadAt(p []byte, off int64) (int, error) {
	if b.left <= 0 || b.clock.Now().After(b.deadline) {
		panic(errBudget)
	}
	if off < 0 || off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[off:])
	b.left -= int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// PDF checks the PDF in data (the whole file) against w. The parser
// (github.com/ledongthuc/pdf) reads the trailer, the Info dictionary, the
// XMP packet and the first page's content stream; the text of that stream
// is scanned here, within MaxTextBytes. A file the parser cannot open
// (damaged, encrypted with a user password, hostile) falls back to a scan
// of its raw bytes, which is usually inconclusive.
func (c *Checker) PDF(data []byte, w fulltext.Work) (rep Report) {
	rep.Encrypted = bytes.Contains(tailOf(data, 4096), []byte("/Encrypt"))
	ev, pages, err := c.pdfEvidence(data)
	if err != nil {
		// Raw scan: identifiers and titles written in the clear.
		// Only the first maxIDText bytes of text are searched (decide,
		// findIDs); without a page count there is no preview check.
		text := contentText(data[:min(len(data), int(c.cfg.MaxTextBytes))], maxIDText)
		ev = evidence{text: text, textIDs: findIDs(text)}
		rep.Verdict, rep.Reason = decide(w, ev)
		if rep.Verdict == Match || rep.Verdict == Mismatch {
			rep.Reason += " in raw bytes"
		} else {
			rep.Reason = "pdf not parsed: " + clip(err.Error(), 80)
		}
		return rep
	}
	rep.Pages = pages
	rep.Verdict, rep.Reason = decide(w, ev)
	rep.Preview = pages > 0 && pages <= 2 && previewRE.MatchString(ev.text)
	return rep
}

// previewRE matches what a publisher's preview or sample-pages PDF says
// about itself.
var previewRE = regexp.MustCompile(`(?i)\b(this is a (free )?preview|preview of|(free|limited|article) preview|sample pages?|end of (the )?preview|purchase (the )?full (text|article)|buy (this|the) article)\b`)

func tailOf(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// pdfEvidence parses data within the budgets. Panics of the parser (its
// way of reporting malformed input) and budget exhaustion become errors.
func (c *Checker) pdfEvidence(data []byte) (ev evidence, pages int, err error) {
	br := &budgetReader{data: data, left: c.cfg.MaxReadBytes, deadline: c.cfg.Clock.Now().Add(c.cfg.MaxTime), clock: c.cfg.Clock}
	defer func() {
		if x := recover(); x != nil {
			if e, ok := x.(error); ok {
				err = fmt.Errorf("verify: pdf: %w", e)
			} else {
				err = fmt.Errorf("verify: pdf: %v", x)
			}
		}
	}()
	r, err := pdf.NewReader(br, int64(len(data)))
	if err != nil {
		return ev, 0, fmt.Errorf("verify: pdf: %w", err)
	}
	info := r.Trailer().Key("Info")
	for _, k := range []string{"Title", "Subject", "Keywords", "doi", "DOI", "Identifier"} {
		v := info.Key(k)
		if v.Kind() != pdf.String {
			continue
		}
		s := v.Text()
		ev.declaredIDs = append(ev.declaredIDs, findIDs(s)...)
		if k == "Title" {
			ev.declaredTitles = append(ev.declaredTitles, s)
		}
	}
	root := r.Trailer().Key("Root")
	if md := root.Key("Metadata"); md.Kind() == pdf.Stream {
		xmp, _ := io.ReadAll(io.LimitReader(md.Reader(), c.cfg.MaxTextBytes))
		ids, titles := xmpEvidence(string(xmp))
		ev.declaredIDs = append(ev.declaredIDs, ids...)
		ev.declaredTitles = append(ev.declaredTitles, titles...)
	}
	pages = r.NumPage()
	if p := r.Page(1); !p.V.IsNull() {
		content := p.V.Key("Contents")
		var rd io.Reader
		switch content.Kind() {
		case pdf.Stream:
			rd = content.Reader()
		case pdf.Array:
			var rs []io.Reader
			for i := 0; i < content.Len() && i < 16; i++ {
				rs = append(rs, content.Index(i).Reader())
			}
			rd = io.MultiReader(rs...)
		}
		if rd != nil {
			raw, _ := io.ReadAll(io.LimitReader(rd, c.cfg.MaxTextBytes))
			ev.text = contentText(raw, len(raw))
			ev.textIDs = findIDs(ev.text)
		}
	}
	return ev, pages, nil
}

var (
	xmpDOIRE   = regexp.MustCompile(`(?is)<(?:prism:doi|dc:identifier|pdfx:doi|prism:url)[^>]*>(.*?)</`)
	xmpTitleRE = regexp.MustCompile(`(?is)<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>`)
)

// xmpEvidence reads identifiers and titles from an XMP packet.
func xmpEvidence(x string) (ids []ident, titles []string) {
	for _, m := range xmpDOIRE.FindAllStringSubmatch(x, 10) {
		ids = append(ids, findIDs(m[1])...)
	}
	for _, m := range xmpTitleRE.FindAllStringSubmatch(x, 3) {
		titles = append(titles, strings.TrimSpace(m[1]))
	}
	return ids, titles
}

// contentText extracts the text shown by a content stream: literal
// "(…)" and hex "<…>" strings, those of one TJ array joined (a kerning
// of more than 200 units counting as a space), others separated by
// spaces, until about limit bytes of text. Font encodings are not applied: text in standard encodings
// reads right, CID-keyed text does not (and leaves the check
// inconclusive).
func contentText(b []byte, limit int) string {
	out := make([]byte, 0, min(len(b)/2, limit))
	inArray := false
	for i := 0; i < len(b) && len(out) < limit; i++ {
		switch c := b[i]; {
		case c == '(':
			out, i = literal(out, b, i+1)
			if !inArray {
				out = append(out, ' ')
			}
			i--
		case c == '<' && i+1 < len(b) && b[i+1] == '<':
			i++
		case c == '<':
			end := bytes.IndexByte(b[i+1:], '>')
			if end < 0 {
				return string(out)
			}
			out = append(out, hexString(b[i+1:i+1+end])...)
			if !inArray {
				out = append(out, ' ')
			}
			i += end + 1
		case c == '[':
			inArray = true
		case c == ']':
			inArray = false
			out = append(out, ' ')
		case inArray && (c == '-' || (c >= '0' && c <= '9')):
			j := i + 1
			for j < len(b) && (b[j] == '.' || (b[j] >= '0' && b[j] <= '9')) {
				j++
			}
			if f, err := strconv.ParseFloat(string(b[i:j]), 64); err == nil && f < -200 {
				out = append(out, ' ')
			}
			i = j - 1
		case c == '%': // comment
			for i < len(b) && b[i] != '\n' && b[i] != '\r' {
				i++
			}
		}
	}
	return string(out)
}

// literal appends to s the PDF literal string starting after its "(" at
// b[i] and returns s and the index after its ")".
func literal(s, b []byte, i int) ([]byte, int) {
	depth := 1
	for ; i < len(b); i++ {
		c := b[i]
		switch c {
		case '\\':
			i++
			if i >= len(b) {
				return s, i
			}
			switch e := b[i]; e {
			case 'n', 'r':
				s = append(s, ' ')
			case 't', 'b', 'f':
				s = append(s, ' ')
			case '\r', '\n':
			default:
				if e >= '0' && e <= '7' {
					j, v := i, 0
					for ; j < len(b) && j < i+3 && b[j] >= '0' && b[j] <= '7'; j++ {
						v = v*8 + int(b[j]-'0')
					}
					s = appendLatin1(s, byte(v))
					i = j - 1
					continue
				}
				s = append(s, e)
			}
		case '(':
			depth++
			s = append(s, c)
		case ')':
			depth--
			if depth == 0 {
				return s, i + 1
			}
			s = append(s, c)
		default:
			if c >= utf8.RuneSelf {
				s = appendLatin1(s, c)
				continue
			}
			// A run of plain ASCII is copied at once.
			j := i + 1
			for j < len(b) && b[j] < utf8.RuneSelf && b[j] != '\\' && b[j] != '(' && b[j] != ')' {
				j++
			}
			s = append(s, b[i:j]...)
			i = j - 1
		}
	}
	return s, i
}

// appendLatin1 appends a byte of a standard-encoded string as UTF-8.
func appendLatin1(s []byte, c byte) []byte {
	if c < utf8.RuneSelf {
		return append(s, c)
	}
	return utf8.AppendRune(s, rune(c))
}

func hexString(h []byte) string {
	var digits []byte
	for _, c := range h {
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') {
			digits = append(digits, c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	var s []byte
	for i := 0; i+1 < len(digits); i += 2 {
		v, _ := strconv.ParseUint(string(digits[i:i+2]), 16, 8)
		if v >= 0x20 {
			s = appendLatin1(s, byte(v))
		}
	}
	return string(s)
}
