package landing

import (
	"bytes"
	"io"
	"net/http"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// maxDecodeBytes bounds the body re-encoded to UTF-8.
const maxDecodeBytes = 8 << 20

// utf8Body returns body as UTF-8: unchanged when it already is valid UTF-8,
// otherwise decoded with the charset named by the Content-Type header, a
// <meta charset> or a BOM (windows-1252 when nothing says). Link URLs are
// ASCII in practice; this keeps titles of Latin-1 and Shift_JIS pages
// readable.
func utf8Body(header http.Header, body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	enc, _, _ := charset.DetermineEncoding(body[:min(len(body), 1024)], header.Get("Content-Type"))
	out, err := io.ReadAll(io.LimitReader(enc.NewDecoder().Reader(bytes.NewReader(body)), maxDecodeBytes))
	if err != nil {
		return body
	}
	return out
}
