package filestore_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
)

func TestResumableStoreConformance(t *testing.T) {
	t.Parallel()
	fulltexttest.RunResumableStoreTests(t, func(t *testing.T) fulltexttest.ResumableArtifactStore {
		s, err := filestore.Open(t.TempDir(), filestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestKeptWrongSize: a prefix whose size disagrees with its sidecar (a
// crash between the two writes, or damage) is not adopted, and a missing
// sidecar means nothing is kept.
func TestKeptWrongSize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	k := fulltext.ResumeKey{JobID: 5, URL: "https://x.example/a.pdf"}
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: k.JobID, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("ccc")); err != nil {
		t.Fatal(err)
	}
	if err := s.Keep(t.Context(), tmp, k, fulltext.ResumeInfo{Validator: `"v"`, Total: 10}); err != nil {
		t.Fatal(err)
	}
	adopted := func() bool {
		t.Helper()
		_, _, found := adopt(t, s, k)
		return found
	}
	if !adopted() {
		t.Fatal("the kept prefix is not adopted")
	}
	parts, _ := filepath.Glob(filepath.Join(dir, ".oafetch", "tmp", "5-keep-*.part"))
	if len(parts) != 1 {
		t.Fatalf("kept files of job 5: %v", parts)
	}
	if err := os.WriteFile(parts[0], []byte("cc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if adopted() {
		t.Fatal("adopted a prefix of the wrong size")
	}
	if err := os.WriteFile(parts[0], []byte("ccc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sidecars, _ := filepath.Glob(filepath.Join(dir, ".oafetch", "tmp", "5-keep-*.json"))
	if len(sidecars) != 1 {
		t.Fatalf("sidecars of job 5: %v", sidecars)
	}
	if err := os.Remove(sidecars[0]); err != nil {
		t.Fatal(err)
	}
	if adopted() {
		t.Fatal("adopted a prefix without its sidecar")
	}
}

func adopt(t *testing.T, s *filestore.Store, k fulltext.ResumeKey) ([]byte, fulltext.ResumeInfo, bool) {
	t.Helper()
	rc, info, found, err := s.Adopt(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return nil, info, false
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info, true
}
