// Package filestore is the fulltext.ArtifactStore on a local filesystem.
//
// Layout under the root directory:
//
//	.oafetch/tmp/<job>-<epoch>-<random>.part   temps being written
//	.oafetch/tmp/<job>-<epoch>-<random>.lnk    a friendly link being swapped in
//	.oafetch/tmp/<job>-<epoch>-<random>.ckpt   the checkpoint of a temp (checkpoint.go)
//	.oafetch/tmp/<job>-keep-<hash(url)>.part   a prefix kept for a later attempt
//	.oafetch/tmp/<job>-keep-<hash(url)>.json   its url, validator and lengths
//	.oafetch/objects/<aa>/<sha256>             content objects (read-only)
//	pdf/10.5555_x.pdf                          friendly paths: hard links to objects
//
// Identical bytes are stored once: every friendly path is a hard link to its
// content object (a copy where the filesystem refuses links). All access goes
// through an os.Root, so nothing is ever read or written outside the root,
// and symbolic links inside the store are refused rather than followed.
package filestore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"sync"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

const (
	metaDir    = ".oafetch"
	tmpDir     = metaDir + "/tmp"
	objectsDir = metaDir + "/objects"
	partSuffix = ".part"
	linkSuffix = ".lnk"
)

// Options configures a Store. The zero value is the production setting.
type Options struct {
	// Faults injects errors into file operations; nil injects none. Tests
	// use it to check that a failed write, fsync, rename or link leaves no
	// partial friendly file behind.
	Faults *Faults
}

// Faults are hooks called before the store's file operations. A hook that
// returns a non-nil error makes the operation fail with that error without
// performing it. Each hook may be nil. Hooks are called from the goroutine
// that runs the operation and must be safe for concurrent use.
type Faults struct {
	// Write is called before each write to a temp; name is the temp's path
	// relative to the root.
	Write func(name string) error
	// Sync is called before each fsync of a file or directory.
	Sync func(name string) error
	// Rename is called before each rename.
	Rename func(oldname, newname string) error
	// Link is called before each hard link. An error other than
	// fs.ErrExist makes the store fall back to a copy, as it does on a
	// filesystem without hard links.
	Link func(oldname, newname string) error
}

// Store is an ArtifactStore rooted at one directory. It is safe for
// concurrent use by multiple goroutines and by several processes sharing the
// directory.
type Store struct {
	root   *os.Root
	faults Faults
}

var _ fulltext.ArtifactStore = (*Store)(nil)

// Open opens (creating if needed) the store rooted at root.
func Open(root string, opts Options) (*Store, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("filestore: open: %w", err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("filestore: open: %w", err)
	}
	s := &Store{root: r}
	if opts.Faults != nil {
		s.faults = *opts.Faults
	}
	for _, d := range []string{metaDir, tmpDir, objectsDir} {
		if err := s.mkdirAll(d); err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("filestore: open: %w", err)
		}
	}
	return s, nil
}

// Close releases the root directory. Temps still open stay valid until
// committed or aborted.
func (s *Store) Close() error { return s.root.Close() }

// Create opens a new temp artifact for lease l under .oafetch/tmp.
func (s *Store) Create(ctx context.Context, l fulltext.Lease) (fulltext.TempArtifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: create: %w", err)
	}
	name := fulltext.TempStem(l, randomHex()) + partSuffix
	rel := tmpDir + "/" + name
	f, err := s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o644)
	if err != nil {
		return nil, fmt.Errorf("filestore: create: %w", err)
	}
	return &temp{s: s, lease: l, name: name, rel: rel, f: f, h: sha256.New()}, nil
}

// temp is a temp artifact. It hashes what it writes so that Commit never
// trusts a caller's checksum for the content address.
type temp struct {
	s     *Store
	lease fulltext.Lease
	name  string
	rel   string
	f     *os.File
	h     hash.Hash
	// wmu guards size, h and err: a Checkpoint may run concurrently with
	// Write (checkpoint.go).
	wmu  sync.Mutex
	size int64
	err  error // sticky write error

	mu           sync.Mutex // guards the fields below against Abort after Commit
	done         bool       // committed or aborted: the temp file is gone or moved
	checkpointed bool       // a checkpoint sidecar may exist (checkpoint.go)
	committed    *fulltext.Artifact
}

func (t *temp) Name() string { return t.name }
func (t *temp) Size() int64  { return t.size }

// SHA256 is the hex SHA-256 of the bytes written so far: a streaming
// caller need not hash them a second time.
func (t *temp) SHA256() string { return hex.EncodeToString(t.h.Sum(nil)) }

func (t *temp) Write(p []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.err != nil {
		return 0, t.err
	}
	if t.done {
		return 0, fmt.Errorf("filestore: write %s: %w", t.name, fs.ErrClosed)
	}
	if err := failpoint.Inject("fs-write"); err != nil {
		t.err = fmt.Errorf("filestore: write %s: %w", t.name, err)
		return 0, t.err
	}
	if hook := t.s.faults.Write; hook != nil {
		if err := hook(t.rel); err != nil {
			t.err = fmt.Errorf("filestore: write %s: %w", t.name, err)
			return 0, t.err
		}
	}
	n, err := t.f.Write(p)
	t.h.Write(p[:n])
	t.size += int64(n)
	if err != nil {
		t.err = fmt.Errorf("filestore: write %s: %w", t.name, err)
		return n, t.err
	}
	return n, nil
}

// Abort closes and removes the temp. It is a no-op after Commit or a
// previous Abort.
func (t *temp) Abort() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil
	}
	t.done = true
	_ = t.f.Close()
	if err := t.dropCheckpoint(); err != nil {
		return fmt.Errorf("filestore: abort %s: %w", t.name, err)
	}
	if err := t.s.root.Remove(t.rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: abort %s: %w", t.name, err)
	}
	return nil
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func (s *Store) mkdirAll(dir string) error {
	if err := s.checkNoSymlinks(dir, true); err != nil {
		return err
	}
	return s.root.MkdirAll(dir, 0o755)
}

// checkNoSymlinks refuses rel when one of its components (the last one too
// when last is set) is a symbolic link. Missing components are fine.
func (s *Store) checkNoSymlinks(rel string, last bool) error {
	p := ""
	parts := splitPath(rel)
	for i, part := range parts {
		p = path.Join(p, part)
		if i == len(parts)-1 && !last {
			break
		}
		fi, err := s.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: %w", p, errSymlink)
		}
	}
	return nil
}

var errSymlink = errors.New("symbolic link refused")
