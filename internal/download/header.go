package download

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxRetryAfter bounds what ParseRetryAfter returns, so that an absurd
// header cannot overflow a time computation. Politeness caps (pausing a
// host) are the host policy's business.
const MaxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After header value, either delay-seconds
// or an HTTP-date, relative to now. It returns 0 for an empty, malformed
// or past value and never more than MaxRetryAfter. Pure.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if isAllDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0
	case d > MaxRetryAfter:
		return MaxRetryAfter
	}
	return d
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ParseContentType returns the lower-cased media type of a Content-Type
// header value ("application/pdf" for "Application/PDF; charset=x"), or ""
// when there is none or it is not of the form type/subtype. Lenient: bad
// parameters do not hide the media type. Pure.
func ParseContentType(v string) string {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt, _, _ = strings.Cut(v, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || !isToken(typ) || !isToken(sub) {
		return ""
	}
	return mt
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ParseContentDisposition returns the disposition type ("attachment",
// "inline", lower-cased) and a safe base name from a Content-Disposition
// value (filename*, RFC 2231/5987, preferred over filename). oafetch never
// names a stored file after it (fulltext.ArtifactPath does); the name is
// for logs and attempt details only, and is made harmless all the same:
// no directory part (either slash), no "." or "..", no control or invalid
// UTF-8 characters, at most 255 bytes; "" when nothing is left. Pure.
func ParseContentDisposition(v string) (disposition, filename string) {
	d, params, err := mime.ParseMediaType(v)
	if err != nil {
		d, _, _ = strings.Cut(v, ";")
		return strings.ToLower(strings.TrimSpace(d)), ""
	}
	return d, SafeBaseName(params["filename"])
}

// SafeBaseName reduces a name a server suggested to a harmless base name
// (see ParseContentDisposition). Pure.
func SafeBaseName(name string) string {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		if r == utf8.RuneError || unicode.IsControl(r) || r == ':' {
			continue
		}
		b.WriteRune(r)
	}
	name = strings.TrimSpace(b.String())
	name = strings.TrimLeft(name, ".")
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
