package fulltext_test

import (
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestTempStemRoundTrip(t *testing.T) {
	t.Parallel()
	stem := fulltext.TempStem(fulltext.Lease{JobID: 42, Epoch: 7}, "ab12")
	job, epoch, ok := fulltext.ParseTempStem(stem)
	if !ok || job != 42 || epoch != 7 {
		t.Errorf("ParseTempStem(%q) = %d, %d, %v", stem, job, epoch, ok)
	}
	for _, bad := range []string{"", "42-7", "42-7-", "x-7-ab", "42-y-ab", "42-7-ab-cd"} {
		if _, _, ok := fulltext.ParseTempStem(bad); ok {
			t.Errorf("ParseTempStem(%q) accepted", bad)
		}
	}
}

func TestArtifactPathIsSafe(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"10.5555/jsim.2021.0042", "10.1002/(sici)1097-4636", "../../etc/passwd", strings.Repeat("x", 400), "..", "a/../b"} {
		p := fulltext.ArtifactPath(fulltext.WorkID{Kind: fulltext.KindDOI, Value: id}, fulltext.KindPDF)
		name := strings.TrimPrefix(p, "pdf/")
		if strings.Contains(name, "/") || strings.Contains(name, "..") || len(p) > 200 || !strings.HasSuffix(p, ".pdf") {
			t.Errorf("ArtifactPath(%q) = %q", id, p)
		}
	}
}
