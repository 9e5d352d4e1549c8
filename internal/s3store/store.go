// Package s3store is the fulltext.ArtifactStore on any S3-compatible object
// store (AWS S3, MinIO, versitygw, Ceph RGW …), through minio-go.
//
// Layout under s3://bucket/prefix:
//
//	.oafetch/tmp/<job>-<epoch>-<random>.part   temps being written
//	.oafetch/tmp/<job>-keep-<hash(url)>.part   kept prefixes (resume.go)
//	.oafetch/tmp/<job>-keep-<hash(url)>.json   their sidecars
//	.oafetch/objects/<aa>/<sha256>             content objects
//	pdf/10.5555_x.pdf                          friendly objects (copies)
//
// A temp streams to the object store while it is written: Write hands the
// bytes to a PutObject running in a goroutine, which uploads them as a
// multipart upload in parts of Options.PartSize (one part's buffer is the
// only local copy) or as one PUT when the body is smaller than a part. A
// zero-byte marker is put at the temp key at Create so that Temps lists
// temps still in flight; the upload replaces it.
//
// Nothing is visible until Commit: it waits for the upload, checks the
// SHA-256 computed while writing, copies the temp server-side to the
// content key (unless an object with that content already exists: dedupe
// by existence check) and to the friendly key, then deletes the temp. An S3
// PUT or copy is atomic, so a reader sees either no friendly object or the
// whole one. Objects carry their SHA-256 in the x-amz-meta-sha256 header,
// which Verify-style callers can compare with the key.
//
// S3 has no hard links: a friendly object is a second copy of the content
// object (server-side, no bytes through the worker).
//
// The Store is a fulltext.ResumableStore (resume.go): the prefix of a
// transfer interrupted by a retryable failure or a stop is kept for the
// job's next attempt. It is not a fulltext.CheckpointStore: a streaming
// upload cannot be made durable midway, so a crash loses the body in
// flight.
package s3store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/oafetch/oafetch/internal/fulltext"
)

const (
	metaDir    = ".oafetch"
	tmpDir     = metaDir + "/tmp"
	objectsDir = metaDir + "/objects"
	partSuffix = ".part"
	shaMeta    = "Sha256" // x-amz-meta-sha256
)

// Options configure a Store.
type Options struct {
	// Endpoint is the S3 endpoint URL, e.g. "https://s3.eu-west-1.amazonaws.com"
	// or "http://127.0.0.1:9000". Defaults to "https://s3.amazonaws.com".
	Endpoint string
	// Region of the bucket. Defaults to "us-east-1".
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name; most self-hosted servers need it.
	PathStyle bool
	// AccessKey, SecretKey and SessionToken are static credentials. When
	// AccessKey is empty the usual chain is used: AWS_ACCESS_KEY_ID /
	// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, MINIO_ROOT_USER …,
	// ~/.aws/credentials (AWS_PROFILE), then the EC2/ECS instance role.
	AccessKey, SecretKey, SessionToken string
	// PartSize is the multipart part size, the memory one temp buffers.
	// Defaults to 8 MiB; S3 needs at least 5 MiB.
	PartSize uint64
	// Transport is the HTTP transport. Defaults to minio-go's.
	Transport http.RoundTripper
}

// Store is an ArtifactStore under one bucket and key prefix. It is safe for
// concurrent use by multiple goroutines and by many processes on many
// machines sharing the bucket.
type Store struct {
	c        *minio.Client
	bucket   string
	prefix   string // "" or ends with "/"
	partSize uint64
}

var _ fulltext.ArtifactStore = (*Store)(nil)

// ParseURL splits "s3://bucket/prefix" into bucket and prefix (without
// leading or trailing slash).
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("s3store: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("s3store: %q: want s3://bucket/prefix", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// Open returns the store at bucket/prefix. It checks that the bucket
// exists; it does not create it.
func Open(ctx context.Context, bucket, prefix string, opts Options) (*Store, error) {
	c, err := NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("s3store: open: %w", err)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if !fs.ValidPath(prefix) || strings.ContainsAny(prefix, "\\\x00") {
			err := fmt.Errorf("%q: %w", prefix, errBadPath)
			return nil, fmt.Errorf("s3store: open: prefix: %w", err)
		}
		prefix += "/"
	}
	s := &Store{c: c, bucket: bucket, prefix: prefix, partSize: cmp.Or(opts.PartSize, 8<<20)}
	if s.partSize < 5<<20 {
		return nil, fmt.Errorf("s3store: open: part size %d < 5 MiB", s.partSize)
	}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("s3store: open s3://%s: %w", bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3store: open s3://%s: bucket does not exist", bucket)
	}
	return s, nil
}

// NewClient returns a minio client for the endpoint, region, addressing
// style and credentials of opts.
func NewClient(opts Options) (*minio.Client, error) {
	endpoint, err := url.Parse(cmp.Or(opts.Endpoint, "https://s3.amazonaws.com"))
	if err != nil || endpoint.Host == "" || (endpoint.Scheme != "http" && endpoint.Scheme != "https") {
		return nil, fmt.Errorf("endpoint %q: want http(s)://host[:port]", opts.Endpoint)
	}
	creds := credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, opts.SessionToken)
	if opts.AccessKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if opts.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(endpoint.Host, &minio.Options{
		Creds:        creds,
		Secure:       endpoint.Scheme == "https",
		Region:       cmp.Or(opts.Region, "us-east-1"),
		BucketLookup: lookup,
		Transport:    opts.Transport,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Client returns the underlying minio client (for tests).
func (s *Store) Client() *minio.Client { return s.c }

// key returns the object key of a path relative to the prefix.
func (s *Store) key(p string) string { return s.prefix + p }

// Create starts a temp artifact for lease l: it puts the marker object and
// starts the upload that Write feeds.
func (s *Store) Create(ctx context.Context, l fulltext.Lease) (fulltext.TempArtifact, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3store: create: %w", err)
	}
	name := fulltext.TempStem(l, randomHex()) + partSuffix
	key := s.key(tmpDir + "/" + name)
	if _, err := s.c.PutObject(ctx, s.bucket, key, strings.NewReader(""), 0, minio.PutObjectOptions{}); err != nil {
		return nil, fmt.Errorf("s3store: create %s: %w", name, err)
	}
	// The upload outlives ctx (the caller's request) until Commit or Abort.
	uctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	pr, pw := io.Pipe()
	t := &temp{s: s, name: name, key: key, pw: pw, cancel: cancel, h: sha256.New(), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		_, t.upErr = s.c.PutObject(uctx, s.bucket, key, pr, -1, minio.PutObjectOptions{PartSize: s.partSize})
		_ = pr.CloseWithError(cmp.Or(t.upErr, io.ErrClosedPipe))
	}()
	return t, nil
}

// temp is a temp artifact being uploaded. It hashes what it writes so that
// Commit never trusts a caller's checksum for the content address.
type temp struct {
	s      *Store
	name   string
	key    string
	pw     *io.PipeWriter
	cancel context.CancelFunc
	h      hash.Hash
	size   int64
	err    error         // sticky write error
	done   chan struct{} // closed when the upload goroutine ends
	upErr  error         // the upload's error, read after done

	mu        sync.Mutex // guards the fields below against Abort after Commit
	closed    bool       // committed or aborted
	committed *fulltext.Artifact
}

func (t *temp) Name() string { return t.name }
func (t *temp) Size() int64  { return t.size }

func (t *temp) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.pw.Write(p)
	t.h.Write(p[:n])
	t.size += int64(n)
	if err != nil {
		t.err = fmt.Errorf("s3store: write %s: %w", t.name, err)
		return n, t.err
	}
	return n, nil
}

// finishUpload ends the stream and waits for the upload.
func (t *temp) finishUpload() error {
	_ = t.pw.Close()
	<-t.done
	return t.upErr
}

// Abort stops the upload and removes the temp object. It is a no-op after
// Commit or a previous Abort.
func (t *temp) Abort() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	_ = t.pw.CloseWithError(errors.New("aborted"))
	t.cancel()
	<-t.done
	ctx := context.Background()
	if err := t.s.c.RemoveObject(ctx, t.s.bucket, t.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3store: abort %s: %w", t.name, err)
	}
	return nil
}

// Commit makes tmp durable and visible: it ends the upload, checks the
// content's SHA-256 against name.SHA256 when set, copies the temp to the
// content key unless that content is stored already (then the result has
// Existing set), copies it to the friendly key unless that key already
// holds the same content, and deletes the temp. Commit is idempotent: a
// second Commit of the same temp returns the first result. On error the
// temp is left for the caller's Abort (or the reconciler) to remove.
func (s *Store) Commit(ctx context.Context, tmp fulltext.TempArtifact, name fulltext.ArtifactName) (fulltext.Artifact, error) {
	t, ok := tmp.(*temp)
	if !ok || t.s != s {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit: temp %q is not from this store", tmp.Name())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.committed != nil {
		return *t.committed, nil
	}
	if t.closed {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit %s: %w", t.name, fs.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit: %w", err)
	}
	if err := checkPath(name.Path); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit: %w", err)
	}
	if t.err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit: %w", t.err)
	}
	if err := t.finishUpload(); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit %s: upload: %w", t.name, err)
	}
	sum := hex.EncodeToString(t.h.Sum(nil))
	if name.SHA256 != "" && name.SHA256 != sum {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit %s: sha256 %s given, content is %s", name.Path, name.SHA256, sum)
	}
	obj := objectsDir + "/" + sum[:2] + "/" + sum
	existing, err := s.publish(ctx, t.key, obj, sum, t.size, "")
	if err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit %s: %w", name.Path, err)
	}
	if _, err := s.publish(ctx, t.key, name.Path, sum, t.size, contentType(name.Kind)); err != nil {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit %s: %w", name.Path, err)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, t.key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fulltext.Artifact{}, fmt.Errorf("s3store: commit: drop temp: %w", err)
	}
	t.closed = true
	a := fulltext.Artifact{Path: name.Path, ContentPath: obj, SHA256: sum, Bytes: t.size, Existing: existing}
	t.committed = &a
	return a, nil
}

// publish copies the object at src to the path dst unless dst already
// holds content with this sha256 and size; it reports whether it did.
func (s *Store) publish(ctx context.Context, src, dst, sum string, size int64, ctype string) (existing bool, err error) {
	info, err := s.c.StatObject(ctx, s.bucket, s.key(dst), minio.StatObjectOptions{})
	switch {
	case err == nil && info.Size == size && info.UserMetadata[shaMeta] == sum:
		return true, nil
	case err != nil && !isNotFound(err):
		return false, err
	}
	meta := map[string]string{shaMeta: sum}
	if ctype != "" {
		meta["Content-Type"] = ctype
	}
	_, err = s.c.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: s.key(dst), UserMetadata: meta, ReplaceMetadata: true},
		minio.CopySrcOptions{Bucket: s.bucket, Object: src})
	return false, err
}

func contentType(k fulltext.Kind) string {
	switch k {
	case fulltext.KindPDF:
		return "application/pdf"
	case fulltext.KindXML:
		return "application/xml"
	case fulltext.KindHTML:
		return "text/html; charset=utf-8"
	}
	return ""
}

// Open reads a committed artifact by its path. ErrNotFound when absent.
func (s *Store) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkReadable(p); err != nil {
		return nil, fmt.Errorf("s3store: open: %w", err)
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.key(p), minio.GetObjectOptions{})
	if err == nil {
		_, err = o.Stat()
	}
	if err != nil {
		if o != nil {
			_ = o.Close()
		}
		return nil, fmt.Errorf("s3store: open %s: %w", p, notFound(err))
	}
	return o, nil
}

// Stat returns the size of a committed artifact; ErrNotFound if absent.
func (s *Store) Stat(ctx context.Context, p string) (int64, error) {
	if err := checkReadable(p); err != nil {
		return 0, fmt.Errorf("s3store: stat: %w", err)
	}
	info, err := s.c.StatObject(ctx, s.bucket, s.key(p), minio.StatObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("s3store: stat %s: %w", p, notFound(err))
	}
	return info.Size, nil
}

// Walk calls fn for every committed friendly path (not content objects nor
// temps), in key order. fn's error stops the walk and is returned.
func (s *Store) Walk(ctx context.Context, fn func(p string, size int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("s3store: walk: %w", o.Err)
		}
		p := strings.TrimPrefix(o.Key, s.prefix)
		if p == metaDir || strings.HasPrefix(p, metaDir+"/") || checkPath(p) != nil {
			continue
		}
		if err := fn(p, o.Size); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Remove deletes a committed friendly path (verify --repair). ErrNotFound
// when absent. The content object stays (other paths may share it).
func (s *Store) Remove(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("s3store: remove: %w", err)
	}
	if _, err := s.c.StatObject(ctx, s.bucket, s.key(p), minio.StatObjectOptions{}); err != nil {
		return fmt.Errorf("s3store: remove %s: %w", p, notFound(err))
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.key(p), minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3store: remove %s: %w", p, err)
	}
	return nil
}

// Temps lists the temp artifacts (in flight or left by dead workers).
func (s *Store) Temps(ctx context.Context) ([]fulltext.TempInfo, error) {
	var out []fulltext.TempInfo
	prefix := s.key(tmpDir + "/")
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("s3store: temps: %w", o.Err)
		}
		name := strings.TrimPrefix(o.Key, prefix)
		if job, epoch, ok := parseTempName(name); ok {
			out = append(out, fulltext.TempInfo{Name: name, JobID: job, Epoch: epoch})
		}
	}
	return out, nil
}

// RemoveTemp deletes a temp object and any unfinished multipart upload of
// it. ErrNotFound when there is no such temp.
func (s *Store) RemoveTemp(ctx context.Context, name string) error {
	if err := checkTempName(name); err != nil {
		return fmt.Errorf("s3store: remove temp: %w", err)
	}
	key := s.key(tmpDir + "/" + name)
	if _, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err != nil {
		return fmt.Errorf("s3store: remove temp %s: %w", name, notFound(err))
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3store: remove temp %s: %w", name, err)
	}
	if err := s.c.RemoveIncompleteUpload(ctx, s.bucket, key); err != nil && !isNotFound(err) {
		return fmt.Errorf("s3store: remove temp %s: %w", name, err)
	}
	return nil
}

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound", minio.NoSuchUpload:
		return true
	}
	return false
}

// notFound wraps err with fulltext.ErrNotFound when the object is missing.
func notFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %w", fulltext.ErrNotFound, err)
	}
	return err
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// errBadPath is wrapped by every error about a refused path.
var errBadPath = errors.New("invalid artifact path")

// checkPath accepts a friendly path relative to the prefix: slash-separated,
// no empty, "." or ".." element, no leading slash, no backslash, no NUL, and
// not inside the store's own .oafetch directory.
func checkPath(p string) error {
	switch {
	case !fs.ValidPath(p) || p == ".":
		return fmt.Errorf("%q: %w", p, errBadPath)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("%q: %w", p, errBadPath)
	case p == metaDir || strings.HasPrefix(p, metaDir+"/"):
		return fmt.Errorf("%q: reserved: %w", p, errBadPath)
	}
	return nil
}

// checkReadable accepts friendly paths and content paths
// (.oafetch/objects/…), never temps.
func checkReadable(p string) error {
	if err := checkPath(p); err != nil {
		if !strings.HasPrefix(p, objectsDir+"/") || !fs.ValidPath(p) || strings.ContainsAny(p, "\\\x00") {
			return err
		}
	}
	return nil
}

// parseTempName parses "<job>-<epoch>-<random>.part".
func parseTempName(name string) (job, epoch int64, ok bool) {
	base, found := strings.CutSuffix(name, partSuffix)
	if !found {
		return 0, 0, false
	}
	return fulltext.ParseTempStem(base)
}

// checkTempName accepts only a bare temp name as made by this store.
func checkTempName(name string) error {
	if strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("%q: %w", name, errBadPath)
	}
	if _, _, ok := parseTempName(name); !ok {
		return fmt.Errorf("%q: not a temp name: %w", name, errBadPath)
	}
	return nil
}
