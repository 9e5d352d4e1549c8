package s3store_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/s3store/s3storetest"
)

func TestResumableStoreConformance(t *testing.T) {
	t.Parallel()
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	fulltexttest.RunResumableStoreTests(t, func(t *testing.T) fulltexttest.ResumableArtifactStore {
		s, err := s3store.Open(t.Context(), bucket, s3storetest.Name("run-")+"/out", s3storetest.Options(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// keptKeys returns the keys under prefix/.oafetch/tmp/ of job 5's kept
// prefix: the .part and the sidecar.
func keptKeys(t *testing.T, c *minio.Client, bucket, prefix string) (part, side string) {
	t.Helper()
	for o := range c.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Prefix: prefix + "/.oafetch/tmp/5-keep-"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		switch {
		case strings.HasSuffix(o.Key, ".part"):
			part = o.Key
		case strings.HasSuffix(o.Key, ".json"):
			side = o.Key
		}
	}
	if part == "" || side == "" {
		t.Fatalf("kept objects of job 5: part %q, sidecar %q", part, side)
	}
	return part, side
}

// TestKeptDamaged: a .part replaced behind the sidecar's back (other size,
// or same size but other bytes: another ETag), or a missing sidecar, is not
// adopted; KeptJobs still lists the job so that the reconciler removes it.
func TestKeptDamaged(t *testing.T) {
	t.Parallel()
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	s, err := s3store.Open(t.Context(), bucket, "dmg", s3storetest.Options(t))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	k := fulltext.ResumeKey{JobID: 5, URL: "https://x.example/a.pdf"}
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: k.JobID, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write([]byte("ccc")); err != nil {
		t.Fatal(err)
	}
	if err := s.Keep(t.Context(), tmp, k, fulltext.ResumeInfo{Validator: `"v"`, Total: 10}); err != nil {
		t.Fatal(err)
	}
	adopted := func() []byte {
		t.Helper()
		rc, _, found, err := s.Adopt(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return nil
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := adopted(); string(got) != "ccc" {
		t.Fatalf("adopted %q, want the kept prefix", got)
	}
	part, side := keptKeys(t, c, bucket, "dmg")
	put := func(key, body string) {
		t.Helper()
		if _, err := c.PutObject(t.Context(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	put(part, "cc")
	if got := adopted(); got != nil {
		t.Fatalf("adopted %q: a prefix of the wrong size", got)
	}
	put(part, "xyz")
	if got := adopted(); got != nil {
		t.Fatalf("adopted %q: a prefix replaced behind the sidecar", got)
	}
	if err := c.RemoveObject(t.Context(), bucket, side, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := adopted(); got != nil {
		t.Fatalf("adopted %q without a sidecar", got)
	}
	if jobs, err := s.KeptJobs(t.Context()); err != nil || len(jobs) != 1 || jobs[0] != 5 {
		t.Fatalf("KeptJobs with a leftover .part = %v, %v; want [5]", jobs, err)
	}
	if err := s.DropKept(t.Context(), fulltext.ResumeKey{JobID: 5}); err != nil {
		t.Fatal(err)
	}
	if jobs, err := s.KeptJobs(t.Context()); err != nil || len(jobs) != 0 {
		t.Fatalf("KeptJobs after DropKept = %v, %v", jobs, err)
	}
}

// TestKeepMultipart keeps a temp that went through a multipart upload
// (several parts) and adopts it byte for byte.
func TestKeepMultipart(t *testing.T) {
	t.Parallel()
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	opts := s3storetest.Options(t)
	opts.PartSize = 5 << 20
	s, err := s3store.Open(t.Context(), bucket, "big", opts)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+3)
	k := fulltext.ResumeKey{JobID: 8, URL: "https://x.example/big.pdf"}
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: k.JobID, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := s.Keep(t.Context(), tmp, k, fulltext.ResumeInfo{Validator: `"big"`, Total: 1 << 30}); err != nil {
		_ = tmp.Abort()
		t.Fatal(err)
	}
	rc, info, found, err := s.Adopt(t.Context(), k)
	if err != nil || !found {
		t.Fatalf("Adopt = %v, %v", found, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) || info.Offset != int64(len(body)) {
		t.Fatalf("adopted %d bytes (offset %d), want the %d kept", len(got), info.Offset, len(body))
	}
}
