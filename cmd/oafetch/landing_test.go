package main

import (
	"path/filepath"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// Every doi-landing work ends ok-pdf from the doi source, whatever the
// platform markup of its landing page — the cookie-gated one included,
// which needs the fetch client's cookie jar.
func TestLandingPlatformsEndOK(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 3+len(simweb.Routes())*len(simweb.Platforms()))
	ids, works := writeInputs(t, sim, simweb.RouteLanding)
	seen := map[simweb.Platform]bool{}
	for _, w := range works {
		seen[w.Platform()] = true
	}
	if len(seen) != len(simweb.Platforms()) {
		t.Fatalf("the world covers platforms %v, want all of %v", seen, simweb.Platforms())
	}
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"pull", "--input", ids, "--out", out, "-q", "--workers", "4"}, sim.flags...)
	if code, stdout, stderr := oafetch(t, "", args...); code != exitOK {
		t.Fatalf("pull exit %d\n%s\n%s", code, stdout, stderr)
	}
	recs := mustExport(t, out)
	for _, w := range works {
		id := workID(t, w)
		r := recs[id]
		if r.Code == nil || *r.Code != string(fulltext.CodeOKPDF) || deref(r.Source) != "doi" {
			t.Errorf("%s (platform %s): code %s source %s, want ok-pdf from doi; attempts %+v",
				id, w.Platform(), deref(r.Code), deref(r.Source), whyAttempts(t, out, id))
		}
	}
}
