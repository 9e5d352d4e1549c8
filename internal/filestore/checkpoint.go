package filestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/oafetch/oafetch/internal/failpoint"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// Checkpoints (fulltext.Checkpointer, fulltext.CheckpointStore). A temp
// being written may be checkpointed: its bytes so far are fsynced, then a
// sidecar next to it records what they are,
//
//	.oafetch/tmp/<job>-<epoch>-<random>.ckpt   job, url, validator, total,
//	                                           offset, sha256 of the prefix
//
// written as <stem>.ckpn, fsynced, renamed over <stem>.ckpt and the
// directory fsynced. The sidecar is one JSON line followed by the hex
// SHA-256 of that line: a torn or garbled sidecar does not parse and is
// never trusted. After a crash the reconciler (RecoverTemp) trusts only the
// first `offset` bytes of the temp, and only when their SHA-256 is the one
// recorded: it cuts the temp there and sets it aside as the kept prefix of
// (job, url), exactly as Keep would have.
const (
	ckptSuffix    = ".ckpt"
	ckptNewSuffix = ".ckpn"
)

var (
	_ fulltext.CheckpointStore = (*Store)(nil)
	_ fulltext.Checkpointer    = (*temp)(nil)
)

// ckptMeta is the content of a checkpoint sidecar.
type ckptMeta struct {
	Job       int64  `json:"job"`
	URL       string `json:"url"`
	Validator string `json:"validator"`
	Total     int64  `json:"total"`
	Offset    int64  `json:"offset"`
	SHA256    string `json:"sha256"`
}

func (m ckptMeta) valid() bool {
	return m.URL != "" && m.Validator != "" && m.Offset > 0 && m.Offset < m.Total && len(m.SHA256) == 64
}

// encodeCkpt returns the sidecar bytes: the JSON line, then its SHA-256.
func encodeCkpt(m ckptMeta) ([]byte, error) {
	line, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(line)
	return fmt.Appendf(nil, "%s\n%s\n", line, hex.EncodeToString(sum[:])), nil
}

// decodeCkpt parses sidecar bytes; ok is false for anything torn, garbled
// or inconsistent.
func decodeCkpt(b []byte) (m ckptMeta, ok bool) {
	line, rest, found := bytes.Cut(b, []byte("\n"))
	if !found {
		return ckptMeta{}, false
	}
	sum := sha256.Sum256(line)
	if string(rest) != hex.EncodeToString(sum[:])+"\n" {
		return ckptMeta{}, false
	}
	if json.Unmarshal(line, &m) != nil || !m.valid() {
		return ckptMeta{}, false
	}
	return m, true
}

// stem is the temp's path without its suffix.
func (t *temp) stem() string { return strings.TrimSuffix(t.rel, partSuffix) }

// Checkpoint fsyncs the bytes written so far and records them durably as
// the prefix of k (see the comment on ckptSuffix). The temp stays open for
// more writes, which may go on concurrently: the checkpoint covers the
// bytes written when it started (the fsync comes after them). It must not
// run concurrently with Commit, Keep or Abort (they wait for it).
func (t *temp) Checkpoint(ctx context.Context, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wmu.Lock()
	size, sum, werr := t.size, hex.EncodeToString(t.h.Sum(nil)), t.err
	t.wmu.Unlock()
	switch {
	case t.done || werr != nil:
		return fmt.Errorf("filestore: checkpoint %s: temp closed or failed", t.name)
	case k.JobID != t.lease.JobID:
		return fmt.Errorf("filestore: checkpoint %s: job %d is not the temp's", t.name, k.JobID)
	}
	m := ckptMeta{Job: k.JobID, URL: k.URL, Validator: info.Validator, Total: info.Total, Offset: size, SHA256: sum}
	if !m.valid() {
		return fmt.Errorf("filestore: checkpoint %s: nothing resumable (offset %d of %d)", t.name, m.Offset, m.Total)
	}
	data, err := encodeCkpt(m)
	if err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	if err := t.s.sync(t.f, t.rel); err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	t.checkpointed = true
	stem := t.stem()
	if err := t.s.writeFile(stem+ckptNewSuffix, data); err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	if err := t.s.rename(stem+ckptNewSuffix, stem+ckptSuffix); err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	if err := t.s.syncDir(tmpDir); err != nil {
		return fmt.Errorf("filestore: checkpoint: %w", err)
	}
	return nil
}

// dropCheckpoint removes the temp's checkpoint sidecars, before the temp is
// committed, kept or removed: a checkpoint must never describe a file that
// is becoming something else. Caller holds t.mu.
func (t *temp) dropCheckpoint() error {
	if !t.checkpointed {
		return nil
	}
	if err := t.s.removeCheckpoint(t.stem()); err != nil {
		return err
	}
	t.checkpointed = false
	return nil
}

func (s *Store) removeCheckpoint(stem string) error {
	for _, name := range []string{stem + ckptNewSuffix, stem + ckptSuffix} {
		if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// RecoverTemp turns the checkpointed temp name of a dead lease into the
// kept prefix of its checkpoint's key. The sidecar must parse and name the
// temp's job; the temp is then moved (one rename: a holder still writing
// through its descriptor can no longer commit it by name) to where Keep
// puts prefixes, and kept only when it is a plain file (not read-only, not
// linked as a content object by a Commit that came first) whose first
// offset bytes hash to the recorded SHA-256: it is cut there, fsynced and
// given Keep's sidecar. When kept is false the checkpoint was missing or
// not to be trusted: either nothing was changed (the caller removes the
// temp) or the moved file was removed already.
func (s *Store) RecoverTemp(ctx context.Context, name string) (fulltext.ResumeKey, fulltext.ResumeInfo, bool, error) {
	none := func(err error) (fulltext.ResumeKey, fulltext.ResumeInfo, bool, error) {
		if err != nil {
			err = fmt.Errorf("filestore: recover temp %s: %w", name, err)
		}
		return fulltext.ResumeKey{}, fulltext.ResumeInfo{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return none(err)
	}
	if err := checkTempName(name); err != nil {
		return none(err)
	}
	base, isPart := strings.CutSuffix(name, partSuffix)
	if !isPart {
		return none(nil)
	}
	job, _, _ := parseTempName(name)
	stem, rel := tmpDir+"/"+base, tmpDir+"/"+name
	raw, err := fs.ReadFile(s.root.FS(), stem+ckptSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := s.root.Lstat(rel); serr != nil {
			return none(notFound(serr))
		}
		return none(nil)
	}
	if err != nil {
		return none(err)
	}
	m, ok := decodeCkpt(raw)
	if !ok || m.Job != job {
		return none(nil)
	}
	k := fulltext.ResumeKey{JobID: m.Job, URL: m.URL}
	info := fulltext.ResumeInfo{Validator: m.Validator, Total: m.Total, Offset: m.Offset}
	kstem := keepStem(k)
	_ = s.root.Remove(kstem + keepSidecar) // an older prefix's sidecar must not describe these bytes
	if err := s.rename(rel, kstem+partSuffix); err != nil {
		return none(notFound(err))
	}
	kept, err := s.cutKept(kstem+partSuffix, m)
	if err != nil || !kept {
		_ = s.root.Remove(kstem + partSuffix)
		_ = s.removeCheckpoint(stem)
		return none(err)
	}
	meta, err := json.Marshal(keptMeta{URL: k.URL, Validator: info.Validator, Total: info.Total, Offset: info.Offset})
	if err != nil {
		return none(err)
	}
	staged := kstem + keepSidecar + ".new"
	if err := s.writeFile(staged, meta); err != nil {
		_ = s.root.Remove(staged)
		return none(err)
	}
	if err := s.rename(staged, kstem+keepSidecar); err != nil {
		_ = s.root.Remove(staged)
		return none(err)
	}
	if err := s.syncDir(tmpDir); err != nil {
		return none(err)
	}
	if err := s.removeCheckpoint(stem); err != nil {
		return none(err)
	}
	return k, info, true, nil
}

// cutKept checks the moved temp rel against its checkpoint m and cuts it
// to m.Offset, fsynced. kept is false when it is not to be trusted.
func (s *Store) cutKept(rel string, m ckptMeta) (kept bool, err error) {
	f, err := s.root.OpenFile(rel, os.O_RDWR|noFollow, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o200 == 0 || linkCount(fi) != 1 || fi.Size() < m.Offset {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, m.Offset); err != nil {
		return false, err
	}
	if hex.EncodeToString(h.Sum(nil)) != m.SHA256 {
		return false, nil
	}
	if err := failpoint.Inject("fs-write"); err != nil {
		return false, err
	}
	if err := f.Truncate(m.Offset); err != nil {
		return false, err
	}
	if err := s.sync(f, rel); err != nil {
		return false, err
	}
	return true, f.Close()
}

// HasCheckpoint reports whether the temp name has a checkpoint sidecar.
func (s *Store) HasCheckpoint(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("filestore: has checkpoint: %w", err)
	}
	if err := checkTempName(name); err != nil {
		return false, fmt.Errorf("filestore: has checkpoint: %w", err)
	}
	base, isPart := strings.CutSuffix(name, partSuffix)
	if !isPart {
		return false, nil
	}
	_, err := s.root.Lstat(tmpDir + "/" + base + ckptSuffix)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("filestore: has checkpoint: %w", err)
}
