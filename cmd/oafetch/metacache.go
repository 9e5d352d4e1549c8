package main

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/oafetch/oafetch/internal/metacache"
)

// metaCacheDir is where API answers are cached, under --out.
func metaCacheDir(out string) string { return filepath.Join(out, ".oafetch", "metacache") }

// useMetaCache puts the on-disk metadata cache in front of the runtime's
// API client: a retry or a re-run of unfinished works reads the answers the
// APIs gave before (7 days, or the answer's own max-age) instead of asking
// again; --refresh-metadata asks again. An --out that is not a local
// directory has no cache.
func (a *app) useMetaCache(rt *runtime, sf *storeFlags, rf *runFlags, log *slog.Logger) error {
	if strings.Contains(sf.out, "://") {
		return nil
	}
	c, err := metacache.New(metacache.Config{Dir: metaCacheDir(sf.out), Refresh: rf.refreshMetadata})
	if err != nil {
		return asStoreErr(err)
	}
	rt.cacheAPI(c.Wrap)
	a.closers = append(a.closers, func() error {
		log.Debug("metadata cache", "stats", c.String())
		return nil
	})
	return nil
}
