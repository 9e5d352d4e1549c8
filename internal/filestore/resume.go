package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Kept prefixes (fulltext.ResumableStore) live next to the temps as
//
//	.oafetch/tmp/<job>-keep-<hash(url)>.part   the bytes
//	.oafetch/tmp/<job>-keep-<hash(url)>.json   url, validator, total, offset
//
// Their names do not parse as lease temps, so Temps does not list them and
// a reconciler's sweep of dead leases' temps leaves them alone.
const (
	keepInfix   = "-keep-"
	keepSidecar = ".json"
)

var _ fulltext.ResumableStore = (*Store)(nil)

type keptMeta struct {
	URL       string `json:"url"`
	Validator string `json:"validator"`
	Total     int64  `json:"total"`
	Offset    int64  `json:"offset"`
}

func keepStem(k fulltext.ResumeKey) string {
	sum := sha256.Sum256([]byte(k.URL))
	return tmpDir + "/" + strconv.FormatInt(k.JobID, 10) + keepInfix + hex.EncodeToString(sum[:12])
}

// Keep fsyncs tmp, moves it to the kept name of k and writes its sidecar
// (through a rename, so it is never partial). Adopt checks the sidecar's
// offset against the file's size, so a crash between the two steps leaves
// nothing adoptable, never a wrong prefix.
func (s *Store) Keep(ctx context.Context, tmp fulltext.TempArtifact, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	t, ok := tmp.(*temp)
	if !ok || t.s != s {
		return fmt.Errorf("filestore: keep: temp %q is not from this store", tmp.Name())
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: keep: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done || t.err != nil {
		return fmt.Errorf("filestore: keep %s: temp closed or failed", t.name)
	}
	if err := s.sync(t.f, t.rel); err != nil {
		return fmt.Errorf("filestore: keep: %w", err)
	}
	if err := t.dropCheckpoint(); err != nil {
		return fmt.Errorf("filestore: keep: %w", err)
	}
	info.Offset = t.size
	moved, err := s.setAside(t.rel, k, info)
	if moved {
		t.done = true
		_ = t.f.Close()
	}
	if err != nil {
		return fmt.Errorf("filestore: keep: %w", err)
	}
	return nil
}

// setAside moves the fsynced file rel to the kept name of k and writes its
// sidecar through a rename, then fsyncs the directory. moved reports that
// rel is gone (renamed), even when a later step failed.
func (s *Store) setAside(rel string, k fulltext.ResumeKey, info fulltext.ResumeInfo) (moved bool, err error) {
	stem := keepStem(k)
	meta, err := json.Marshal(keptMeta{URL: k.URL, Validator: info.Validator, Total: info.Total, Offset: info.Offset})
	if err != nil {
		return false, err
	}
	_ = s.root.Remove(stem + keepSidecar) // an older prefix's sidecar must not describe the new bytes
	if err := s.rename(rel, stem+partSuffix); err != nil {
		return false, err
	}
	staged := stem + keepSidecar + ".new"
	if err := s.writeFile(staged, meta); err != nil {
		_ = s.root.Remove(staged)
		return true, err
	}
	if err := s.rename(staged, stem+keepSidecar); err != nil {
		_ = s.root.Remove(staged)
		return true, err
	}
	return true, s.syncDir(tmpDir)
}

func (s *Store) writeFile(rel string, data []byte) error {
	f, err := s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|noFollow, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := s.sync(f, rel); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// Adopt opens the prefix kept for k. A sidecar that does not parse, names
// another URL or another size than the file's is treated as nothing kept.
func (s *Store) Adopt(ctx context.Context, k fulltext.ResumeKey) (io.ReadCloser, fulltext.ResumeInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("filestore: adopt: %w", err)
	}
	stem := keepStem(k)
	raw, err := fs.ReadFile(s.root.FS(), stem+keepSidecar)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	if err != nil {
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("filestore: adopt: %w", err)
	}
	var m keptMeta
	if json.Unmarshal(raw, &m) != nil || m.URL != k.URL || m.Offset <= 0 || m.Offset >= m.Total || m.Validator == "" {
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	f, err := s.root.OpenFile(stem+partSuffix, os.O_RDONLY|noFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	if err != nil {
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("filestore: adopt: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Offset {
		_ = f.Close()
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	return f, fulltext.ResumeInfo{Validator: m.Validator, Total: m.Total, Offset: m.Offset}, true, nil
}

// DropKept removes the prefix kept for k, or every prefix of job k.JobID
// when k.URL is empty.
func (s *Store) DropKept(ctx context.Context, k fulltext.ResumeKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filestore: drop kept: %w", err)
	}
	var names []string
	if k.URL != "" {
		stem := keepStem(k)
		names = []string{stem + keepSidecar, stem + partSuffix}
	} else {
		entries, err := fs.ReadDir(s.root.FS(), tmpDir)
		if err != nil {
			return fmt.Errorf("filestore: drop kept: %w", err)
		}
		prefix := strconv.FormatInt(k.JobID, 10) + keepInfix
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				names = append(names, tmpDir+"/"+e.Name())
			}
		}
	}
	for _, name := range names {
		if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("filestore: drop kept: %w", err)
		}
	}
	return nil
}

// KeptJobs returns the ids of the jobs with kept prefixes, in order.
func (s *Store) KeptJobs(ctx context.Context) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("filestore: kept jobs: %w", err)
	}
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return nil, fmt.Errorf("filestore: kept jobs: %w", err)
	}
	var jobs []int64
	for _, e := range entries {
		job, _, found := strings.Cut(e.Name(), keepInfix)
		if !found {
			continue
		}
		if id, err := strconv.ParseInt(job, 10, 64); err == nil {
			jobs = append(jobs, id)
		}
	}
	slices.Sort(jobs)
	return slices.Compact(jobs), nil
}
