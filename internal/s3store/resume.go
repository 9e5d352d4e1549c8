package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Kept prefixes (fulltext.ResumableStore) live next to the temps, named as
// the filestore names them:
//
//	.oafetch/tmp/<job>-keep-<hash(url)>.part   the bytes
//	.oafetch/tmp/<job>-keep-<hash(url)>.json   url, validator, total, offset, etag
//
// Their names do not parse as lease temps, so Temps does not list them and
// a reconciler's sweep of dead leases' temps leaves them alone.
//
// Keep ends the temp's upload, copies the temp server-side to the .part
// key, then puts the sidecar, then deletes the temp. The sidecar is put
// last and the older one deleted first, so that a failure or crash midway
// leaves nothing adoptable rather than a wrong prefix: Adopt trusts a .part
// only when its sidecar names the same URL, its size equals the sidecar's
// offset and its ETag the one the copy returned.
//
// Checkpoints (fulltext.Checkpointer) are not supported: a temp is a
// streaming upload, which cannot be made durable midway. A crash therefore
// loses the body in flight; only interrupted transfers the process saw end
// (truncated, network error, timeout, a stop) are kept.
const (
	keepInfix   = "-keep-"
	keepSidecar = ".json"
	// maxSidecar bounds what Adopt reads of a sidecar.
	maxSidecar = 64 << 10
)

var _ fulltext.ResumableStore = (*Store)(nil)

type keptMeta struct {
	URL       string `json:"url"`
	Validator string `json:"validator"`
	Total     int64  `json:"total"`
	Offset    int64  `json:"offset"`
	ETag      string `json:"etag,omitempty"` // of the .part object
}

// keepStem returns the key (relative to the prefix) of k's kept prefix,
// without suffix.
func keepStem(k fulltext.ResumeKey) string {
	sum := sha256.Sum256([]byte(k.URL))
	return tmpDir + "/" + strconv.FormatInt(k.JobID, 10) + keepInfix + hex.EncodeToString(sum[:12])
}

// Keep ends tmp's upload and sets its bytes aside for k (see above). On
// error the temp is still the caller's to Abort; a .part copied before the
// error is left without a sidecar (never adopted) until DropKept.
func (s *Store) Keep(ctx context.Context, tmp fulltext.TempArtifact, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	t, ok := tmp.(*temp)
	if !ok || t.s != s {
		return fmt.Errorf("s3store: keep: temp %q is not from this store", tmp.Name())
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3store: keep: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.committed != nil {
		return fmt.Errorf("s3store: keep %s: %w", t.name, fs.ErrClosed)
	}
	if t.err != nil {
		return fmt.Errorf("s3store: keep: %w", t.err)
	}
	if err := t.finishUpload(); err != nil {
		return fmt.Errorf("s3store: keep %s: upload: %w", t.name, err)
	}
	stem := keepStem(k)
	part, side := s.key(stem+partSuffix), s.key(stem+keepSidecar)
	// An older prefix's sidecar must not describe the new bytes.
	if err := s.c.RemoveObject(ctx, s.bucket, side, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3store: keep %s: %w", t.name, err)
	}
	up, err := s.c.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: part},
		minio.CopySrcOptions{Bucket: s.bucket, Object: t.key})
	if err != nil {
		return fmt.Errorf("s3store: keep %s: copy: %w", t.name, err)
	}
	meta, err := json.Marshal(keptMeta{URL: k.URL, Validator: info.Validator, Total: info.Total, Offset: t.size, ETag: up.ETag})
	if err != nil {
		return fmt.Errorf("s3store: keep: %w", err)
	}
	if _, err := s.c.PutObject(ctx, s.bucket, side, bytes.NewReader(meta), int64(len(meta)),
		minio.PutObjectOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("s3store: keep %s: sidecar: %w", t.name, err)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, t.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3store: keep %s: drop temp: %w", t.name, err)
	}
	t.closed = true
	t.cancel()
	return nil
}

// Adopt opens the prefix kept for k. A sidecar that does not parse, names
// another URL, or describes another object than the .part (size, ETag) is
// treated as nothing kept.
func (s *Store) Adopt(ctx context.Context, k fulltext.ResumeKey) (io.ReadCloser, fulltext.ResumeInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("s3store: adopt: %w", err)
	}
	stem := keepStem(k)
	m, found, err := s.readSidecar(ctx, s.key(stem+keepSidecar))
	if err != nil || !found {
		return nil, fulltext.ResumeInfo{}, false, err
	}
	if m.URL != k.URL || m.Offset <= 0 || m.Offset >= m.Total || m.Validator == "" {
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	var opts minio.GetObjectOptions
	if m.ETag != "" {
		// A .part replaced since the sidecar was written is not this one.
		if err := opts.SetMatchETag(m.ETag); err != nil {
			return nil, fulltext.ResumeInfo{}, false, nil
		}
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.key(stem+partSuffix), opts)
	if err != nil {
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("s3store: adopt: %w", err)
	}
	st, err := o.Stat()
	switch {
	case err != nil && (isNotFound(err) || minio.ToErrorResponse(err).Code == "PreconditionFailed"):
		_ = o.Close()
		return nil, fulltext.ResumeInfo{}, false, nil
	case err != nil:
		_ = o.Close()
		return nil, fulltext.ResumeInfo{}, false, fmt.Errorf("s3store: adopt: %w", err)
	case st.Size != m.Offset:
		_ = o.Close()
		return nil, fulltext.ResumeInfo{}, false, nil
	}
	return o, fulltext.ResumeInfo{Validator: m.Validator, Total: m.Total, Offset: m.Offset}, true, nil
}

// readSidecar reads and parses the sidecar at key; found is false when it
// is absent or does not parse.
func (s *Store) readSidecar(ctx context.Context, key string) (m keptMeta, found bool, err error) {
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return m, false, fmt.Errorf("s3store: adopt: %w", err)
	}
	defer func() { _ = o.Close() }()
	raw, err := io.ReadAll(io.LimitReader(o, maxSidecar))
	if isNotFound(err) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("s3store: adopt: %w", err)
	}
	if json.Unmarshal(raw, &m) != nil {
		return m, false, nil
	}
	return m, true, nil
}

// DropKept removes the prefix kept for k, or every prefix of job k.JobID
// when k.URL is empty. The sidecar goes first: a .part left by a failure
// is never adopted, and is listed by KeptJobs until removed.
func (s *Store) DropKept(ctx context.Context, k fulltext.ResumeKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3store: drop kept: %w", err)
	}
	var keys []string
	if k.URL != "" {
		stem := keepStem(k)
		keys = []string{s.key(stem + keepSidecar), s.key(stem + partSuffix)}
	} else {
		prefix := s.key(tmpDir + "/" + strconv.FormatInt(k.JobID, 10) + keepInfix)
		var parts []string
		for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
			if o.Err != nil {
				return fmt.Errorf("s3store: drop kept: %w", o.Err)
			}
			if strings.HasSuffix(o.Key, keepSidecar) {
				keys = append(keys, o.Key)
			} else {
				parts = append(parts, o.Key)
			}
		}
		keys = append(keys, parts...)
	}
	for _, key := range keys {
		if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return fmt.Errorf("s3store: drop kept: %w", err)
		}
	}
	return nil
}

// KeptJobs returns the ids of the jobs with kept prefixes (or a leftover
// .part or sidecar of one), in order.
func (s *Store) KeptJobs(ctx context.Context) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3store: kept jobs: %w", err)
	}
	prefix := s.key(tmpDir + "/")
	var jobs []int64
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return nil, fmt.Errorf("s3store: kept jobs: %w", o.Err)
		}
		job, _, found := strings.Cut(strings.TrimPrefix(o.Key, prefix), keepInfix)
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
