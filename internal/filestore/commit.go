package filestore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// Commit makes tmp durable and visible. Steps, each of which must succeed
// before the next starts:
//
//  1. fsync the temp file and close it;
//  2. publish it as the content object .oafetch/objects/<aa>/<sha256> by a
//     hard link, which fails if the object exists (then the result has
//     Existing set and the temp is dropped), and fsync the object directory;
//  3. link the friendly path name.Path to the object through a temp name
//     and a rename, so that the friendly path is never partial, and fsync
//     its directory.
//
// The content address is the SHA-256 of the bytes written to tmp; when
// name.SHA256 is set and differs, Commit fails and writes nothing visible.
// Commit is idempotent: a second Commit of the same temp returns the first
// result, and committing identical content under the same name again yields
// the same Artifact with Existing set. On error the temp is left in place
// for the caller's Abort (or the reconciler) to remove.
func (s *Store) Commit(ctx context.Context, tmp fulltext.TempArtifact, name fulltext.ArtifactName) (fulltext.Artifact, error) {
	t, ok := tmp.(*temp)
	if !ok || t.s != s {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: temp %q is not from this store", tmp.Name())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.committed != nil {
		return *t.committed, nil
	}
	if t.done {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit %s: %w", t.name, fs.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", err)
	}
	if err := checkPath(name.Path); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", err)
	}
	if t.err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", t.err)
	}
	sum := hex.EncodeToString(t.h.Sum(nil))
	if name.SHA256 != "" && name.SHA256 != sum {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit %s: sha256 %s given, content is %s", name.Path, name.SHA256, sum)
	}
	if err := s.sync(t.f, t.rel); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: sync temp: %w", err)
	}
	if t.checkpointed {
		// The temp is about to become a content object: its checkpoint
		// must be gone for good first, so that no reconciler ever cuts it.
		if err := t.dropCheckpoint(); err != nil {
			return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", err)
		}
		if err := s.syncDir(tmpDir); err != nil {
			return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", err)
		}
	}
	if err := t.f.Chmod(0o444); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: %w", err)
	}

	obj := objectsDir + "/" + sum[:2] + "/" + sum
	existing, err := s.publishObject(t.rel, obj, t.size)
	if err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit %s: %w", name.Path, err)
	}
	if err := failpoint.Inject("fs-after-publish"); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit %s: %w", name.Path, err)
	}
	if err := s.linkFriendly(obj, name.Path, t.lease); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit %s: %w", name.Path, err)
	}
	// The content is safe under its address: the temp name can go.
	_ = t.f.Close()
	if err := s.root.Remove(t.rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fulltext.Artifact{}, fmt.Errorf("filestore: commit: drop temp: %w", err)
	}
	t.done = true
	a := fulltext.Artifact{Path: name.Path, ContentPath: obj, SHA256: sum, Bytes: t.size, Existing: existing}
	t.committed = &a
	return a, nil
}

// publishObject makes the temp at rel visible as obj. It reports whether an
// object with that content was already there. An existing object of the
// wrong size (damaged) is replaced.
func (s *Store) publishObject(rel, obj string, size int64) (existing bool, err error) {
	dir := path.Dir(obj)
	if err := s.mkdirAll(dir); err != nil {
		return false, err
	}
	if fi, err := s.root.Lstat(obj); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		return true, nil
	}
	err = s.link(rel, obj)
	switch {
	case errors.Is(err, fs.ErrExist):
		fi, serr := s.root.Lstat(obj)
		if serr == nil && fi.Mode().IsRegular() && fi.Size() == size {
			return true, nil
		}
		// Damaged or not a regular file: replace it with the good bytes.
		if err := s.rename(rel, obj); err != nil {
			return false, err
		}
	case err != nil:
		// No hard links here: move the temp into place instead.
		if err := s.rename(rel, obj); err != nil {
			return false, err
		}
	}
	return false, s.syncDir(dir)
}

// linkFriendly points the friendly path p at obj atomically: link (or copy)
// to a temp name, then rename over p.
func (s *Store) linkFriendly(obj, p string, l fulltext.Lease) error {
	dir := path.Dir(p)
	if dir != "." {
		if err := s.mkdirAll(dir); err != nil {
			return err
		}
	}
	if err := s.checkNoSymlinks(p, true); err != nil {
		return err
	}
	if same, err := s.sameFile(obj, p); err == nil && same {
		return nil
	}
	staged := tmpDir + "/" + fulltext.TempStem(l, randomHex()) + linkSuffix
	if err := s.link(obj, staged); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := s.copyFile(obj, staged); err != nil {
			_ = s.root.Remove(staged)
			return err
		}
	}
	if err := s.rename(staged, p); err != nil {
		_ = s.root.Remove(staged)
		return err
	}
	// rename(2) does nothing when both names are links to the same file,
	// as when a concurrent Commit linked p to the same object meanwhile.
	if err := s.root.Remove(staged); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := s.syncDir(dir); err != nil {
		// Not known to be durable: a failed Commit leaves no friendly path.
		_ = s.root.Remove(p)
		return err
	}
	return nil
}

func (s *Store) sameFile(a, b string) (bool, error) {
	fa, err := s.root.Lstat(a)
	if err != nil {
		return false, err
	}
	fb, err := s.root.Lstat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

func (s *Store) copyFile(src, dst string) error {
	in, err := s.root.OpenFile(src, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := s.root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o444)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := s.sync(out, dst); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func (s *Store) link(oldname, newname string) error {
	if err := failpoint.Inject("fs-link"); err != nil {
		return err
	}
	if hook := s.faults.Link; hook != nil {
		if err := hook(oldname, newname); err != nil {
			return err
		}
	}
	return s.root.Link(oldname, newname)
}

func (s *Store) rename(oldname, newname string) error {
	if err := failpoint.Inject("fs-rename"); err != nil {
		return err
	}
	if hook := s.faults.Rename; hook != nil {
		if err := hook(oldname, newname); err != nil {
			return err
		}
	}
	return s.root.Rename(oldname, newname)
}

func (s *Store) sync(f *os.File, rel string) error {
	if err := failpoint.Inject("fs-sync"); err != nil {
		return err
	}
	if hook := s.faults.Sync; hook != nil {
		if err := hook(rel); err != nil {
			return err
		}
	}
	return f.Sync()
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.OpenFile(dir, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return s.sync(d, dir)
}
