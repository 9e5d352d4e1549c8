package simweb

import (
	"bytes"
	"strings"
	"testing"
)

func TestBulkPDF(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 5})
	tests := []struct {
		name   string
		url    string
		status int
		size   int
	}{
		{"by host", BulkURL("https", 100<<10, "W1"), 200, 100 << 10},
		{"http", BulkURL("http", 4097, "W2"), 200, 4097},
		{"ip literal", "http://" + s.httpAddr + "/bulk/5000/x.pdf", 200, 5000},
		{"tiny grows to the minimum", BulkURL("https", 1, "W3"), 200, -1},
		{"not a pdf name", BulkURL("https", 10, "W4") + ".txt", 404, 0},
		{"bad size", "https://" + BulkHost + "/bulk/abc/W5.pdf", 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, c, tt.url)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if tt.status != 200 {
				return
			}
			checkPDF(t, r)
			if tt.size >= 0 && len(r.body) != tt.size {
				t.Errorf("%d bytes, want %d", len(r.body), tt.size)
			}
		})
	}
	a := get(t, c, BulkURL("https", 1<<20, "A"))
	b := get(t, c, BulkURL("https", 1<<20, "B"))
	if bytes.Equal(a.body, b.body) {
		t.Error("two names gave the same bytes")
	}
	part := get(t, c, BulkURL("https", 1<<20, "A"), "Range", "bytes=1000-1999")
	if part.status != 206 || !bytes.Equal(part.body, a.body[1000:2000]) {
		t.Errorf("range: status %d, %d bytes, equal %v", part.status, len(part.body), bytes.Equal(part.body, a.body[1000:2000]))
	}
	if !strings.Contains(string(a.body[:200]), "/Title (A)") {
		t.Errorf("head does not name the file: %q", a.body[:200])
	}
}
