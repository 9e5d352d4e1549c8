package filestore_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// checkpointed opens a store in a new directory and leaves in it a temp of
// job 7 with 3000 checkpointed bytes followed by 2000 unsynced ones, as a
// crash mid-transfer would. It returns the store, its directory, the temp's
// name and the bytes written.
func checkpointed(t *testing.T) (*filestore.Store, string, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	s, err := filestore.Open(dir, filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 7, Epoch: 3})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 5000/16+1)[:5000]
	if _, err := tmp.Write(data[:3000]); err != nil {
		t.Fatal(err)
	}
	cp, ok := tmp.(fulltext.Checkpointer)
	if !ok {
		t.Fatal("filestore temps are not Checkpointers")
	}
	if err := cp.Checkpoint(t.Context(), ckptKey, fulltext.ResumeInfo{Validator: `"etag-1"`, Total: 9000}); err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(data[3000:]); err != nil {
		t.Fatal(err)
	}
	return s, dir, tmp.Name(), data
}

var ckptKey = fulltext.ResumeKey{JobID: 7, URL: "https://x.example/big.pdf"}

func tmpFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, ".oafetch", "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCheckpointRecover: the temp of a crashed transfer with a valid
// checkpoint becomes the kept prefix of its job and URL, cut to the
// checkpoint; the unsynced bytes past it are dropped.
func TestCheckpointRecover(t *testing.T) {
	t.Parallel()
	s, dir, name, data := checkpointed(t)
	temps, err := s.Temps(t.Context())
	if err != nil || len(temps) != 1 || temps[0].Name != name || temps[0].JobID != 7 || temps[0].Epoch != 3 {
		t.Fatalf("Temps = %v, %v; want only %s (the sidecar goes with its temp)", temps, err, name)
	}
	if has, err := s.HasCheckpoint(t.Context(), name); err != nil || !has {
		t.Fatalf("HasCheckpoint = %v, %v", has, err)
	}
	k, info, kept, err := s.RecoverTemp(t.Context(), name)
	if err != nil || !kept {
		t.Fatalf("RecoverTemp = %v, %v", kept, err)
	}
	want := fulltext.ResumeInfo{Validator: `"etag-1"`, Total: 9000, Offset: 3000}
	if k != ckptKey || info != want {
		t.Fatalf("RecoverTemp = %+v %+v, want %+v %+v", k, info, ckptKey, want)
	}
	got, ainfo, found := adopt(t, s, ckptKey)
	if !found || ainfo != want || !bytes.Equal(got, data[:3000]) {
		t.Fatalf("Adopt = %d bytes %+v %v; want the 3000 checkpointed bytes", len(got), ainfo, found)
	}
	if temps, _ := s.Temps(t.Context()); len(temps) != 0 {
		t.Fatalf("Temps after recovery = %v", temps)
	}
	for _, f := range tmpFiles(t, dir) {
		if strings.HasSuffix(f, ".ckpt") || strings.HasSuffix(f, ".ckpn") {
			t.Errorf("checkpoint sidecar %s left after recovery", f)
		}
	}
	// Idempotent: a second reconciler finds nothing.
	if _, _, _, err := s.RecoverTemp(t.Context(), name); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("second RecoverTemp: %v, want ErrNotFound", err)
	}
}

// TestCheckpointUntrusted: a torn or garbled sidecar, a damaged prefix, a
// temp cut short of its checkpoint or linked as an object is never made a
// prefix; RemoveTemp then removes the temp and its sidecars.
func TestCheckpointUntrusted(t *testing.T) {
	t.Parallel()
	sidecar := func(dir, name string) string {
		return filepath.Join(dir, ".oafetch", "tmp", strings.TrimSuffix(name, ".part")+".ckpt")
	}
	part := func(dir, name string) string { return filepath.Join(dir, ".oafetch", "tmp", name) }
	tests := []struct {
		name   string
		damage func(t *testing.T, dir, name string) error
	}{
		{"torn sidecar", func(_ *testing.T, dir, name string) error {
			b, err := os.ReadFile(sidecar(dir, name))
			if err != nil {
				return err
			}
			return os.WriteFile(sidecar(dir, name), b[:len(b)/2], 0o644)
		}},
		{"sidecar with a changed offset", func(_ *testing.T, dir, name string) error {
			b, err := os.ReadFile(sidecar(dir, name))
			if err != nil {
				return err
			}
			return os.WriteFile(sidecar(dir, name), bytes.Replace(b, []byte(`"offset":3000`), []byte(`"offset":2999`), 1), 0o644)
		}},
		{"sidecar lost", func(_ *testing.T, dir, name string) error { return os.Remove(sidecar(dir, name)) }},
		{"garbled prefix", func(_ *testing.T, dir, name string) error {
			f, err := os.OpenFile(part(dir, name), os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("junk"), 1000)
			return err
		}},
		{"temp shorter than its checkpoint", func(_ *testing.T, dir, name string) error {
			return os.Truncate(part(dir, name), 2000)
		}},
		{"temp linked as an object", func(_ *testing.T, dir, name string) error {
			return os.Link(part(dir, name), filepath.Join(dir, ".oafetch", "objects", "linked"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, dir, name, _ := checkpointed(t)
			if err := tc.damage(t, dir, name); err != nil {
				t.Fatal(err)
			}
			if _, _, kept, err := s.RecoverTemp(t.Context(), name); err != nil || kept {
				t.Fatalf("RecoverTemp = %v, %v; want not kept", kept, err)
			}
			if _, _, found := adopt(t, s, ckptKey); found {
				t.Fatal("an untrusted checkpoint was adopted")
			}
			// The temp may be gone already (moved, found wanting, removed).
			if err := s.RemoveTemp(t.Context(), name); err != nil && !errors.Is(err, fulltext.ErrNotFound) {
				t.Fatal(err)
			}
			if left := tmpFiles(t, dir); len(left) != 0 {
				t.Fatalf("left in tmp after RemoveTemp: %v", left)
			}
			// A temp a Commit linked first is never cut.
			if fi, err := os.Stat(filepath.Join(dir, ".oafetch", "objects", "linked")); err == nil && fi.Size() != 5000 {
				t.Fatalf("the linked object was cut to %d bytes", fi.Size())
			}
		})
	}
}

// TestCheckpointEnds: Commit, Keep and Abort of a checkpointed temp leave
// no sidecar; an orphan sidecar is listed by Temps and removed.
func TestCheckpointEnds(t *testing.T) {
	t.Parallel()
	t.Run("commit", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := filestore.Open(dir, filestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		data := bytes.Repeat([]byte("%PDF"), 1250)
		tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 8, Epoch: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(data[:4000]); err != nil {
			t.Fatal(err)
		}
		k := fulltext.ResumeKey{JobID: 8, URL: "https://x.example/c.pdf"}
		if err := tmp.(fulltext.Checkpointer).Checkpoint(t.Context(), k, fulltext.ResumeInfo{Validator: "v", Total: 5000}); err != nil {
			t.Fatal(err)
		}
		if _, err := tmp.Write(data[4000:]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/c.pdf", Kind: fulltext.KindPDF}); err != nil {
			t.Fatal(err)
		}
		if left := tmpFiles(t, dir); len(left) != 0 {
			t.Fatalf("tmp after Commit = %v; want nothing", left)
		}
	})
	t.Run("keep and abort", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s, err := filestore.Open(dir, filestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		k := fulltext.ResumeKey{JobID: 9, URL: "https://x.example/k.pdf"}
		info := fulltext.ResumeInfo{Validator: "v", Total: 100}
		for _, end := range []string{"keep", "abort"} {
			tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 9, Epoch: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tmp.Write([]byte("0123456789")); err != nil {
				t.Fatal(err)
			}
			if err := tmp.(fulltext.Checkpointer).Checkpoint(t.Context(), k, info); err != nil {
				t.Fatal(err)
			}
			if end == "keep" {
				err = s.Keep(t.Context(), tmp, k, info)
			} else {
				err = tmp.Abort()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range tmpFiles(t, dir) {
			if !strings.Contains(f, "-keep-") {
				t.Errorf("left in tmp: %s", f)
			}
		}
		if got, _, found := adopt(t, s, k); !found || string(got) != "0123456789" {
			t.Fatalf("Adopt after Keep = %q %v", got, found)
		}
	})
	t.Run("orphan sidecar", func(t *testing.T) {
		t.Parallel()
		s, dir, name, _ := checkpointed(t)
		if err := os.Remove(filepath.Join(dir, ".oafetch", "tmp", name)); err != nil {
			t.Fatal(err)
		}
		temps, err := s.Temps(t.Context())
		if err != nil || len(temps) != 1 || !strings.HasSuffix(temps[0].Name, ".ckpt") || temps[0].JobID != 7 {
			t.Fatalf("Temps = %v, %v; want the orphan sidecar", temps, err)
		}
		if _, _, kept, err := s.RecoverTemp(t.Context(), temps[0].Name); err != nil || kept {
			t.Fatalf("RecoverTemp(sidecar) = %v, %v", kept, err)
		}
		if err := s.RemoveTemp(t.Context(), temps[0].Name); err != nil {
			t.Fatal(err)
		}
		if left := tmpFiles(t, dir); len(left) != 0 {
			t.Fatalf("left: %v", left)
		}
	})
}
