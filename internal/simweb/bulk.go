package simweb

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// BulkHost serves synthetic PDFs of any size for throughput benchmarks:
// GET /bulk/{bytes}/{name}.pdf answers a valid-looking PDF of exactly
// {bytes} bytes whose first object names {name} (so that every file has
// its own sha256). The body is generated while it streams: a 1 GiB file
// costs no memory. The same path is answered on an IP-literal host too, so
// that a tool without --connect-to (aria2c) can fetch the very same bytes
// from http://127.0.0.1:PORT/bulk/…
const BulkHost = "bulk.simweb.test"

// BulkURL is the URL of the synthetic PDF called name of size bytes on
// BulkHost, with scheme "http" or "https".
func BulkURL(scheme string, size int64, name string) string {
	return fmt.Sprintf("%s://%s/bulk/%d/%s.pdf", scheme, BulkHost, size, name)
}

// maxBulkBytes bounds a synthetic PDF (4 GiB).
const maxBulkBytes = 4 << 30

// isBulk reports whether r asks for a synthetic PDF.
func isBulk(host string, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/bulk/") {
		return false
	}
	return host == BulkHost || net.ParseIP(strings.Trim(host, "[]")) != nil
}

// bulk serves GET and HEAD /bulk/{bytes}/{name}.pdf, with Range support.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/bulk/")
	sizeStr, file, ok := strings.Cut(rest, "/")
	name, isPDF := strings.CutSuffix(file, ".pdf")
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if !ok || !isPDF || name == "" || strings.Contains(name, "/") || err != nil || size > maxBulkBytes {
		writeText(w, http.StatusNotFound, "text/plain; charset=utf-8", "simweb: no such bulk file\n")
		return
	}
	body := newBulkPDF(name, size)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("ETag", fmt.Sprintf(`"bulk-%d-%s"`, size, name))
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", lastModified, io.NewSectionReader(body, 0, body.size))
}

// bulkPDF generates a synthetic PDF: head, filler text, tail. The filler
// is a fixed line pattern, so any byte range is computed without state.
type bulkPDF struct {
	head, tail []byte
	size       int64
}

var bulkLine = []byte("BT /F1 10 Tf 72 750 Td (the model data sample survey estimate observed rate) Tj ET\n")

func newBulkPDF(name string, size int64) *bulkPDF {
	head := fmt.Appendf(nil, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (%s) /Producer (oafetch simweb bulk) >>\nendobj\n2 0 obj\n<< >>\nstream\n", name)
	tail := []byte("\nendstream\nendobj\ntrailer\n<< /Info 1 0 R >>\n%%EOF\n")
	min := int64(len(head) + len(tail))
	if size < min {
		size = min
	}
	return &bulkPDF{head: head, tail: tail, size: size}
}

// ReadAt implements io.ReaderAt.
func (b *bulkPDF) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.size {
		return 0, io.EOF
	}
	n := 0
	fillerEnd := b.size - int64(len(b.tail))
	for n < len(p) && off < b.size {
		var c int
		switch {
		case off < int64(len(b.head)):
			c = copy(p[n:], b.head[off:])
		case off < fillerEnd:
			f := off - int64(len(b.head))
			lim := min(int64(len(p)-n), fillerEnd-off)
			c = copy(p[n:int64(n)+lim], bulkLine[f%int64(len(bulkLine)):])
		default:
			c = copy(p[n:], b.tail[off-fillerEnd:])
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
