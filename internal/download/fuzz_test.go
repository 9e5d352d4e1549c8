package download_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oafetch/oafetch/internal/download"
)

func FuzzParseContentDisposition(f *testing.F) {
	for _, s := range []string{
		`attachment; filename="../../x"`, `inline; filename="a.pdf"`, `attachment; filename*=UTF-8''%2e%2e%2fetc%2fpasswd`,
		`attachment; filename="C:\\Windows\\x.pdf"`, `attachment; filename="\x00evil"`, `attachment`, `;;;`, ``,
		`attachment; filename="..."`, `form-data; name="f"; filename="a/b/c.pdf"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, name := download.ParseContentDisposition(v)
		if d != strings.ToLower(d) {
			t.Errorf("disposition %q not lower-cased", d)
		}
		if strings.ContainsAny(name, "/\\\x00:") || name == "." || name == ".." || strings.HasPrefix(name, ".") {
			t.Errorf("unsafe name %q from %q", name, v)
		}
		if !utf8.ValidString(name) || len(name) > 255 {
			t.Errorf("bad name %q", name)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f {
				t.Errorf("control character in %q", name)
			}
		}
	})
}

func TestParseContentDisposition(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, disp, name string }{
		{`attachment; filename="../../x"`, "attachment", "x"},
		{`inline; filename="paper.pdf"`, "inline", "paper.pdf"},
		{`attachment; filename*=UTF-8''%2e%2e%2fetc%2fpasswd`, "attachment", "passwd"},
		{`attachment; filename="C:\\evil\\a.pdf"`, "attachment", "a.pdf"},
		{`attachment; filename=".."`, "attachment", ""},
		{`attachment; filename=".hidden"`, "attachment", "hidden"},
		{`Attachment`, "attachment", ""},
		{`garbage;;="`, "garbage", ""},
	}
	for _, tt := range tests {
		if d, n := download.ParseContentDisposition(tt.in); d != tt.disp || n != tt.name {
			t.Errorf("ParseContentDisposition(%q) = %q, %q; want %q, %q", tt.in, d, n, tt.disp, tt.name)
		}
	}
}
