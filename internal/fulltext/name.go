package fulltext

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
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

// TempStem returns the "<job>-<epoch>-<random>" stem every ArtifactStore
// gives the temp artifacts of lease l (each store adds its own suffix), so
// that a reconciler can tell a live lease's temp from a dead one's.
func TempStem(l Lease, random string) string {
	return strconv.FormatInt(l.JobID, 10) + "-" + strconv.FormatInt(l.Epoch, 10) + "-" + random
}

// ParseTempStem parses a stem made by TempStem.
func ParseTempStem(stem string) (job, epoch int64, ok bool) {
	fields := strings.Split(stem, "-")
	if len(fields) != 3 || fields[2] == "" {
		return 0, 0, false
	}
	job, err1 := strconv.ParseInt(fields[0], 10, 64)
	epoch, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return job, epoch, true
}
