package download_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func headTail(b []byte) (head, tail []byte) {
	head = b[:min(len(b), download.HeadSize)]
	tail = b[max(0, len(b)-download.TailSize):]
	return head, tail
}

func TestValidatePDF(t *testing.T) {
	t.Parallel()
	good := makePDF(20_000)
	tests := []struct {
		name string
		body []byte
		want fulltext.Code // "" = valid
	}{
		{"real pdf", good, ""},
		{"small real pdf", makePDF(100), ""},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), good...), ""},
		{"leading blank lines", append([]byte("\r\n\n  \t"), good...), ""},
		{"trailing garbage after eof", append(append([]byte{}, good...), bytes.Repeat([]byte{0}, 1500)...), ""},
		{"trailing whitespace and signature", append(append([]byte{}, good...), "\n\n<</Sig 1>>\n"...), ""},
		{"two revisions", append(append([]byte{}, good...), "1 0 obj\n<<>>\nendobj\nstartxref\n9\n%%EOF\n"...), ""},
		{"truncated", good[:len(good)/2], fulltext.CodePDFCorrupt},
		{"eof too far from the end", append(append([]byte{}, good...), bytes.Repeat([]byte("x"), 3000)...), fulltext.CodePDFCorrupt},
		{"broken header", append([]byte("%PDF-x.y\n"), good[9:]...), fulltext.CodePDFCorrupt},
		{"header only", []byte("%PDF-"), fulltext.CodePDFCorrupt},
		{"html as pdf", []byte(landingHTML), fulltext.CodeWrongType},
		{"javascript as pdf", []byte("window.location.href='/login?next=x.pdf';"), fulltext.CodeWrongType},
		{"html after eof", append(append([]byte{}, good...), "<html><script>track()</script></html>"...), fulltext.CodeWrongType},
		{"binary junk", bytes.Repeat([]byte{0x89, 0x50, 0x4e, 0x47}, 300), fulltext.CodeWrongType},
		{"empty", nil, fulltext.CodeEmptyBody},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			head, tail := headTail(tc.body)
			err := download.ValidatePDF(head, tail, int64(len(tc.body)))
			if got := fulltext.CodeOf(err); got != tc.want {
				t.Fatalf("ValidatePDF = %v (code %q), want code %q", err, got, tc.want)
			}
		})
	}
}

func TestSniffKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct string
		head     []byte
		want     fulltext.Kind
	}{
		{"pdf", "application/pdf", makePDF(2000), fulltext.KindPDF},
		{"pdf as octet-stream", "application/octet-stream", makePDF(2000), fulltext.KindPDF},
		{"pdf with bom", "text/plain", append([]byte("\xef\xbb\xbf"), makePDF(2000)...), fulltext.KindPDF},
		{"pdf after blank lines", "", append([]byte("\n\n\r\n"), makePDF(2000)...), fulltext.KindPDF},
		{"jats", "application/xml", []byte(jatsDoc), fulltext.KindXML},
		{"jats as text/plain", "text/plain", []byte(jatsDoc), fulltext.KindXML},
		{"jats no declaration", "", []byte("<article><front/></article>"), fulltext.KindXML},
		{"html", "text/html", []byte(landingHTML), fulltext.KindHTML},
		{"html as pdf", "application/pdf", []byte(landingHTML), fulltext.KindHTML},
		{"xhtml", "application/xhtml+xml", []byte(`<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`), fulltext.KindHTML},
		{"html in caps", "", []byte("<HTML><BODY>x</BODY></HTML>"), fulltext.KindHTML},
		{"plain text page", "text/plain; charset=utf-8", []byte("Access denied. Please log in."), fulltext.KindHTML},
		{"javascript", "application/pdf", []byte("window.location.href='/x';"), ""},
		{"png", "image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ""},
		{"empty", "application/pdf", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			head := tc.head[:min(len(tc.head), download.HeadSize)]
			if got := download.SniffKind(head, tc.ct); got != tc.want {
				t.Fatalf("SniffKind = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateJATS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"jats article", jatsDoc, true},
		{"pmc articleset", `<?xml version="1.0"?><pmc-articleset><article><front/></article></pmc-articleset>`, true},
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><article><p>caf\xe9</p></article>", true},
		{"not well-formed", `<?xml version="1.0"?><article><front></article>`, false},
		{"truncated", jatsDoc[:len(jatsDoc)/2], false},
		{"wrong root", `<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`, false},
		{"empty articleset", `<pmc-articleset></pmc-articleset>`, false},
		{"oai error", `<?xml version="1.0"?><OAI-PMH><error code="idDoesNotExist"/></OAI-PMH>`, false},
		{"html", landingHTML, false},
		{"two roots", `<article/><article/>`, false},
		{"text after root", `<article/>junk`, false},
		{"no root", `<?xml version="1.0"?>`, false},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><article/>`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := download.ValidateJATS(strings.NewReader(tc.doc))
			if tc.ok && err != nil {
				t.Fatalf("ValidateJATS = %v, want ok", err)
			}
			if !tc.ok && fulltext.CodeOf(err) != fulltext.CodeWrongType {
				t.Fatalf("ValidateJATS = %v, want wrong-type", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 120 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"1.5", 0},
		{"soon", 0},
		{"Sat, 28 Nov 2026 20:01:30 GMT", 90 * time.Second},
		{"Saturday, 28-Nov-26 20:00:10 GMT", 10 * time.Second},
		{"Sat Nov 28 20:00:05 2026", 5 * time.Second},
		{"Sat, 28 Nov 2026 19:00:00 GMT", 0},
		{"99999999999999999999999", download.MaxRetryAfter},
		{"Fri, 01 Jan 2100 00:00:00 GMT", download.MaxRetryAfter},
	}
	for _, tc := range tests {
		if got := download.ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseContentType(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"application/pdf":                  "application/pdf",
		"Application/PDF; charset=binary":  "application/pdf",
		"text/html;charset=UTF-8":          "text/html",
		"text/html; charset":               "text/html",
		`application/pdf; name="../../x"`:  "application/pdf",
		"":                                 "",
		"pdf":                              "",
		"/pdf":                             "",
		"text/":                            "",
		"text/html extra":                  "",
		"application/x-pdf;;;":             "application/x-pdf",
		"attachment; filename=\"../../x\"": "",
	}
	for in, want := range tests {
		if got := download.ParseContentType(in); got != want {
			t.Errorf("ParseContentType(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidatePDF(f *testing.F) {
	f.Add(makePDF(3000))
	f.Add(append([]byte("\xef\xbb\xbf"), makePDF(1500)...))
	f.Add([]byte(landingHTML))
	f.Add([]byte("%PDF-1.4\n%%EOF"))
	f.Add([]byte("%PDF-"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		head, tail := headTail(b)
		err := download.ValidatePDF(head, tail, int64(len(b)))
		if err == nil {
			if !bytes.Contains(head, []byte("%PDF-")) || !bytes.Contains(tail, []byte("%%EOF")) {
				t.Fatalf("accepted without header or %%%%EOF: %q", b)
			}
			return
		}
		if c := fulltext.CodeOf(err); c.Outcome() != fulltext.OutcomeInvalid {
			t.Fatalf("ValidatePDF code %q is not an invalid outcome", c)
		}
	})
}

func FuzzSniff(f *testing.F) {
	f.Add(makePDF(1200), "application/pdf")
	f.Add([]byte(jatsDoc), "application/xml")
	f.Add([]byte(landingHTML), "text/html")
	f.Add([]byte("\xef\xbb\xbf \n%PDF-1.5"), "")
	f.Add([]byte("window.location='x'"), "application/pdf")
	f.Fuzz(func(t *testing.T, head []byte, ct string) {
		k := download.SniffKind(head, ct)
		switch k {
		case "", fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML:
		default:
			t.Fatalf("SniffKind = %q", k)
		}
		trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n\f\x00")
		if bytes.HasPrefix(trimmed, []byte("%PDF-")) && k != fulltext.KindPDF {
			t.Fatalf("a %%PDF- head sniffed as %q", k)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "Sat, 28 Nov 2026 20:01:30 GMT", "", "-1", "1e9", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := download.ParseRetryAfter(v, now)
		if d < 0 || d > download.MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v out of range", v, d)
		}
	})
}

func FuzzParseContentType(f *testing.F) {
	for _, s := range []string{"application/pdf", "Text/HTML; charset=UTF-8", `a/b; x="y`, "", ";;", "attachment; filename=\"../x\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		mt := download.ParseContentType(v)
		if mt == "" {
			return
		}
		if mt != strings.ToLower(mt) || strings.ContainsAny(mt, " ;\t\"") || strings.Count(mt, "/") != 1 {
			t.Fatalf("ParseContentType(%q) = %q", v, mt)
		}
	})
}
