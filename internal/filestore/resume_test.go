package filestore_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func keepBytes(t *testing.T, s *filestore.Store, k fulltext.ResumeKey, b []byte, total int64) {
	t.Helper()
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: k.JobID, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Keep(t.Context(), tmp, k, fulltext.ResumeInfo{Validator: `"v"`, Total: total}); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Abort(); err != nil { // a no-op after Keep
		t.Fatal(err)
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

// TestKeepAdopt: a kept prefix is adopted by key only, replaced by a later
// Keep, invisible to Temps, and dropped per key or per job.
func TestKeepAdopt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	a := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/a.pdf"}
	b := fulltext.ResumeKey{JobID: 4, URL: "https://x.example/b.pdf"}
	c := fulltext.ResumeKey{JobID: 5, URL: "https://x.example/a.pdf"}
	keepBytes(t, s, a, []byte("first"), 100)
	keepBytes(t, s, a, []byte("second prefix"), 100)
	keepBytes(t, s, b, []byte("bbb"), 10)
	keepBytes(t, s, c, []byte("ccc"), 10)

	got, info, found := adopt(t, s, a)
	if !found || string(got) != "second prefix" || info != (fulltext.ResumeInfo{Validator: `"v"`, Total: 100, Offset: 13}) {
		t.Fatalf("Adopt(a) = %q %+v %v", got, info, found)
	}
	if _, _, found := adopt(t, s, fulltext.ResumeKey{JobID: 6, URL: a.URL}); found {
		t.Fatal("adopted another job's prefix")
	}
	if temps, _ := s.Temps(t.Context()); len(temps) != 0 {
		t.Fatalf("Temps lists kept prefixes: %v", temps)
	}
	if jobs, err := s.KeptJobs(t.Context()); err != nil || !slices.Equal(jobs, []int64{4, 5}) {
		t.Fatalf("KeptJobs = %v, %v", jobs, err)
	}
	if err := s.DropKept(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if _, _, found := adopt(t, s, a); found {
		t.Fatal("adopted a dropped prefix")
	}
	if _, _, found := adopt(t, s, b); !found {
		t.Fatal("dropping a also dropped b")
	}
	if err := s.DropKept(t.Context(), fulltext.ResumeKey{JobID: 4}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.KeptJobs(t.Context()); !slices.Equal(jobs, []int64{5}) {
		t.Fatalf("KeptJobs after dropping job 4 = %v", jobs)
	}

	// A prefix whose size disagrees with its sidecar (a crash between the
	// two writes, or damage) is not adopted.
	parts, _ := filepath.Glob(filepath.Join(dir, ".oafetch", "tmp", "5-keep-*.part"))
	if len(parts) != 1 {
		t.Fatalf("kept files of job 5: %v", parts)
	}
	if err := os.WriteFile(parts[0], []byte("cc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, found := adopt(t, s, c); found {
		t.Fatal("adopted a prefix of the wrong size")
	}
}
