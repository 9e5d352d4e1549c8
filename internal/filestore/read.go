package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Open reads the committed artifact at the friendly path p. It returns an
// error wrapping fulltext.ErrNotFound when p does not exist, and refuses p
// when it or one of its directories is a symbolic link.
func (s *Store) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: open: %w", err)
	}
	if err := s.checkReadable(p); err != nil {
		return nil, fmt.Errorf("filestore: open: %w", err)
	}
	f, err := s.root.OpenFile(p, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("filestore: open: %w", notFound(err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("filestore: open %s: not a regular file", p)
	}
	return f, nil
}

// Stat returns the size of the committed artifact at p; an error wrapping
// fulltext.ErrNotFound when it does not exist.
func (s *Store) Stat(ctx context.Context, p string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("filestore: stat: %w", err)
	}
	if err := s.checkReadable(p); err != nil {
		return 0, fmt.Errorf("filestore: stat: %w", err)
	}
	fi, err := s.root.Lstat(p)
	if err != nil {
		return 0, fmt.Errorf("filestore: stat: %w", notFound(err))
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("filestore: stat %s: not a regular file", p)
	}
	return fi.Size(), nil
}

// Walk calls fn for every committed friendly path (slash-separated,
// relative to the root) in lexical order, skipping the store's .oafetch
// directory and symbolic links. fn's error stops the walk and is returned.
func (s *Store) Walk(ctx context.Context, fn func(p string, size int64) error) error {
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p == metaDir {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, fi.Size())
	})
	if err != nil {
		return fmt.Errorf("filestore: walk: %w", err)
	}
	return nil
}

// Remove deletes the friendly path p (its content object stays; identical
// content may still be linked elsewhere). An error wrapping
// fulltext.ErrNotFound when p does not exist.
func (s *Store) Remove(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: remove: %w", err)
	}
	if err := checkPath(p); err != nil {
		return fmt.Errorf("filestore: remove: %w", err)
	}
	if err := s.checkNoSymlinks(p, false); err != nil {
		return fmt.Errorf("filestore: remove: %w", err)
	}
	fi, err := s.root.Lstat(p)
	if err != nil {
		return fmt.Errorf("filestore: remove: %w", notFound(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("filestore: remove %s: is a directory", p)
	}
	if err := s.root.Remove(p); err != nil {
		return fmt.Errorf("filestore: remove: %w", notFound(err))
	}
	return nil
}

// Temps lists the temp artifacts (and staged friendly links, and checkpoint
// sidecars whose temp is gone) with the job and epoch parsed from their
// names. Files in the temp directory whose names this store did not make
// are not listed.
func (s *Store) Temps(ctx context.Context) ([]fulltext.TempInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: temps: %w", err)
	}
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return nil, fmt.Errorf("filestore: temps: %w", err)
	}
	parts := map[string]bool{}
	for _, e := range entries {
		if base, ok := strings.CutSuffix(e.Name(), partSuffix); ok {
			parts[base] = true
		}
	}
	var out []fulltext.TempInfo
	for _, e := range entries {
		job, epoch, ok := parseTempName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if base, ok := cutCheckpointSuffix(e.Name()); ok && parts[base] {
			continue // listed with its temp, removed with it
		}
		out = append(out, fulltext.TempInfo{Name: e.Name(), JobID: job, Epoch: epoch})
	}
	return out, nil
}

// RemoveTemp deletes the temp named name (as listed by Temps). An error
// wrapping fulltext.ErrNotFound when it does not exist.
func (s *Store) RemoveTemp(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: remove temp: %w", err)
	}
	if err := checkTempName(name); err != nil {
		return fmt.Errorf("filestore: remove temp: %w", err)
	}
	if base, ok := strings.CutSuffix(name, partSuffix); ok {
		// Its checkpoint first: a checkpoint never outlives its temp for
		// long (an orphan one is listed by Temps and removed in turn).
		if err := s.removeCheckpoint(tmpDir + "/" + base); err != nil {
			return fmt.Errorf("filestore: remove temp: %w", err)
		}
	}
	if err := s.root.Remove(tmpDir + "/" + name); err != nil {
		return fmt.Errorf("filestore: remove temp: %w", notFound(err))
	}
	return nil
}

// checkReadable accepts friendly paths and content paths
// (.oafetch/objects/…), never temps, and no symbolic link on the way.
func (s *Store) checkReadable(p string) error {
	if err := checkPath(p); err != nil {
		if !strings.HasPrefix(p, objectsDir+"/") || !fs.ValidPath(p) {
			return err
		}
	}
	return s.checkNoSymlinks(p, true)
}

// notFound adds fulltext.ErrNotFound to a does-not-exist error.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", fulltext.ErrNotFound, err)
	}
	return err
}
