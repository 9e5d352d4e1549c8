package fulltext

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ArtifactPath returns the friendly path of a work's artifact of kind k,
// e.g. "pdf/10.5555_jsim.2021.0042.pdf". It never comes from a server's
// Content-Disposition or URL, contains no "..", no separators other than the
// one after the kind directory, and stays under 200 bytes.
func ArtifactPath(id WorkID, k Kind) string {
	return string(k) + "/" + SafeName(id.Value) + "." + string(k)
}

// SafeName maps s to a file name of letters, digits, '.', '-' and '_' only.
// Long names are cut and suffixed with a hash so that distinct inputs stay
// distinct.
func SafeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), ".")
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", "._")
	}
	if name == "" || len(name) > 150 {
		sum := sha256.Sum256([]byte(s))
		if len(name) > 120 {
			name = name[:120]
		}
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return name
}
