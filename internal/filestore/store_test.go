package filestore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
)

func newStore(t *testing.T, root string, opts filestore.Options) *filestore.Store {
	t.Helper()
	s, err := filestore.Open(root, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	fulltexttest.RunArtifactStoreTests(t, func(t *testing.T) fulltext.ArtifactStore {
		return newStore(t, t.TempDir(), filestore.Options{})
	})
}

// TestConformanceWithoutLinks runs the suite on a store whose filesystem
// refuses hard links, so every friendly path is a copy.
func TestConformanceWithoutLinks(t *testing.T) {
	t.Parallel()
	noLinks := &filestore.Faults{Link: func(_, _ string) error { return syscall.EPERM }}
	fulltexttest.RunArtifactStoreTests(t, func(t *testing.T) fulltext.ArtifactStore {
		return newStore(t, t.TempDir(), filestore.Options{Faults: noLinks})
	})
}

func hexsum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func commitBytes(t *testing.T, s *filestore.Store, path string, b []byte) (fulltext.TempArtifact, fulltext.Artifact, error) {
	t.Helper()
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 5, Epoch: 2})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return tmp, fulltext.Artifact{}, err
	}
	a, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: path, SHA256: hexsum(b), Kind: fulltext.KindPDF})
	return tmp, a, err
}

func TestLayout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newStore(t, root, filestore.Options{})
	b := []byte("%PDF-1.4 layout test %%EOF")
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 12, Epoch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tmp.Name(), "12-4-") || !strings.HasSuffix(tmp.Name(), ".part") {
		t.Fatalf("temp name %q, want 12-4-<random>.part", tmp.Name())
	}
	if _, err := os.Stat(filepath.Join(root, ".oafetch", "tmp", tmp.Name())); err != nil {
		t.Fatalf("temp not under .oafetch/tmp: %v", err)
	}
	if _, err := tmp.Write(b); err != nil {
		t.Fatal(err)
	}
	a, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/10.5555_x.pdf", Kind: fulltext.KindPDF})
	if err != nil {
		t.Fatal(err)
	}
	sum := hexsum(b)
	if want := ".oafetch/objects/" + sum[:2] + "/" + sum; a.ContentPath != want {
		t.Fatalf("ContentPath = %q, want %q", a.ContentPath, want)
	}
	obj, err := os.Stat(filepath.Join(root, filepath.FromSlash(a.ContentPath)))
	if err != nil {
		t.Fatal(err)
	}
	friendly, err := os.Lstat(filepath.Join(root, "pdf", "10.5555_x.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(obj, friendly) {
		t.Fatal("friendly path is not a hard link to the object")
	}
	if obj.Mode().Perm()&0o222 != 0 {
		t.Fatalf("object mode %v is writable", obj.Mode())
	}
	if _, err := os.Stat(filepath.Join(root, ".oafetch", "tmp", tmp.Name())); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp still there after Commit: %v", err)
	}
}

func TestSymlinksRefused(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	s := newStore(t, root, filestore.Options{})
	secret := filepath.Join(outside, "secret.pdf")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory symlink pointing outside, and a file symlink inside.
	if err := os.Symlink(outside, filepath.Join(root, "pdf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pdf/secret.pdf", filepath.Join(root, "link.pdf")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := commitBytes(t, s, "pdf/escape.pdf", []byte("payload")); err == nil {
		t.Fatal("Commit through a symlinked directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "escape.pdf")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file was written outside the root: %v", err)
	}
	for _, p := range []string{"pdf/secret.pdf", "link.pdf"} {
		if rc, err := s.Open(t.Context(), p); err == nil {
			rc.Close()
			t.Fatalf("Open(%s) followed a symlink", p)
		}
	}
	if _, _, err := commitBytes(t, s, "link.pdf", []byte("overwrite")); err == nil {
		t.Fatal("Commit over a symlink succeeded")
	}
	if got, _ := os.ReadFile(secret); string(got) != "secret" {
		t.Fatalf("file outside the root changed: %q", got)
	}
	var walked []string
	if err := s.Walk(t.Context(), func(p string, _ int64) error { walked = append(walked, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 0 {
		t.Fatalf("Walk listed %v through symlinks", walked)
	}
}

// TestFaults injects ENOSPC/EIO into each step of Commit: the Commit fails,
// no friendly file appears, Abort removes the temp, and a later Commit of
// the same content succeeds.
func TestFaults(t *testing.T) {
	t.Parallel()
	inject := func(match string, errno error) func(string) error {
		return func(name string) error {
			if strings.Contains(name, match) {
				return errno
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		faults *filestore.Faults
	}{
		{"write ENOSPC", &filestore.Faults{Write: inject("", syscall.ENOSPC)}},
		{"fsync temp EIO", &filestore.Faults{Sync: inject(".part", syscall.EIO)}},
		{"fsync objects dir EIO", &filestore.Faults{Sync: inject("objects", syscall.EIO)}},
		{"fsync friendly dir EIO", &filestore.Faults{Sync: inject("pdf", syscall.EIO)}},
		{"rename friendly ENOSPC", &filestore.Faults{Rename: func(_, newname string) error {
			return inject("pdf", syscall.ENOSPC)(newname)
		}}},
		{"link fails, copy hits EIO", &filestore.Faults{
			Link: func(_, _ string) error { return syscall.EXDEV },
			Sync: inject(".lnk", syscall.EIO),
		}},
		{"link and rename fail", &filestore.Faults{
			Link:   func(_, _ string) error { return syscall.EPERM },
			Rename: func(_, _ string) error { return syscall.EIO },
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			s := newStore(t, root, filestore.Options{Faults: tc.faults})
			b := bytes.Repeat([]byte("fault "), 1000)
			tmp, _, err := commitBytes(t, s, "pdf/f.pdf", b)
			if err == nil {
				t.Fatal("Commit succeeded despite the fault")
			}
			if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EIO) {
				t.Fatalf("error %v does not carry the injected errno", err)
			}
			if _, err := s.Stat(t.Context(), "pdf/f.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
				t.Fatalf("friendly file after failed Commit: %v", err)
			}
			if err := tmp.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			if temps, err := s.Temps(t.Context()); err != nil || len(temps) != 0 {
				t.Fatalf("Temps after Abort = %v, %v", temps, err)
			}
			// A healthy store on the same root commits the same content.
			healthy := newStore(t, root, filestore.Options{})
			if _, a, err := commitBytes(t, healthy, "pdf/f.pdf", b); err != nil || a.Bytes != int64(len(b)) {
				t.Fatalf("Commit after the fault cleared = %+v, %v", a, err)
			}
			rc, err := healthy.Open(t.Context(), "pdf/f.pdf")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, b) {
				t.Fatal("content differs after recovery")
			}
		})
	}
}

// TestDamagedObjectReplaced: an object whose size does not match its name
// is not trusted for dedupe.
func TestDamagedObjectReplaced(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newStore(t, root, filestore.Options{})
	b := []byte("good content for the damaged object test")
	_, a, err := commitBytes(t, s, "pdf/d.pdf", b)
	if err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(root, filepath.FromSlash(a.ContentPath))
	if err := os.Remove(filepath.Join(root, "pdf", "d.pdf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj, b[:5], 0o644); err != nil {
		t.Fatal(err)
	}
	_, a2, err := commitBytes(t, s, "pdf/d.pdf", b)
	if err != nil || a2.Existing {
		t.Fatalf("Commit over a damaged object = %+v, %v; want stored anew", a2, err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "pdf", "d.pdf")); !bytes.Equal(got, b) {
		t.Fatalf("friendly file = %q", got)
	}
}

func TestTempsIgnoresForeignFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newStore(t, root, filestore.Options{})
	for _, n := range []string{"README", "x-y-z.part", "1-2.part"} {
		if err := os.WriteFile(filepath.Join(root, ".oafetch", "tmp", n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	temps, err := s.Temps(t.Context())
	if err != nil || len(temps) != 0 {
		t.Fatalf("Temps = %v, %v; want none", temps, err)
	}
	if err := s.RemoveTemp(t.Context(), "README"); err == nil {
		t.Fatal("RemoveTemp of a foreign file succeeded")
	}
}
