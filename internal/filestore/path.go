package filestore

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// errBadPath is wrapped by every error about a refused path.
var errBadPath = errors.New("invalid artifact path")

// checkPath accepts a friendly path relative to the root: slash-separated,
// no empty, "." or ".." element, no leading slash, no backslash, no NUL, and
// not inside the store's own .oafetch directory.
func checkPath(p string) error {
	switch {
	case !fs.ValidPath(p) || p == ".":
		return fmt.Errorf("%q: %w", p, errBadPath)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("%q: %w", p, errBadPath)
	case p == metaDir || strings.HasPrefix(p, metaDir+"/"):
		return fmt.Errorf("%q: reserved: %w", p, errBadPath)
	}
	return nil
}

func splitPath(p string) []string { return strings.Split(p, "/") }

// parseTempName parses "<job>-<epoch>-<random>.part" (or ".lnk", or the
// checkpoint sidecars ".ckpt", ".ckpn").
func parseTempName(name string) (job, epoch int64, ok bool) {
	for _, suffix := range []string{partSuffix, linkSuffix, ckptSuffix, ckptNewSuffix} {
		if base, found := strings.CutSuffix(name, suffix); found {
			return fulltext.ParseTempStem(base)
		}
	}
	return 0, 0, false
}

// cutCheckpointSuffix returns the stem of a checkpoint sidecar's name.
func cutCheckpointSuffix(name string) (string, bool) {
	if base, ok := strings.CutSuffix(name, ckptSuffix); ok {
		return base, true
	}
	return strings.CutSuffix(name, ckptNewSuffix)
}

// checkTempName accepts only a bare temp name as made by this store.
func checkTempName(name string) error {
	if strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("%q: %w", name, errBadPath)
	}
	if _, _, ok := parseTempName(name); !ok {
		return fmt.Errorf("%q: not a temp name: %w", name, errBadPath)
	}
	return nil
}
