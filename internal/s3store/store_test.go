package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
	"github.com/oafetch/oafetch/internal/s3store"
)

// testOptions returns the options of the test server
// (scripts/test-services.sh). Without one the test is skipped locally and
// fails in CI.
func testOptions(t testing.TB) s3store.Options {
	t.Helper()
	endpoint := os.Getenv("OAFETCH_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("OAFETCH_TEST_S3_ENDPOINT is not set: CI must start an S3 server (scripts/test-services.sh)")
		}
		t.Skip("OAFETCH_TEST_S3_ENDPOINT is not set; start a server with: eval \"$(scripts/test-services.sh start)\"")
	}
	return s3store.Options{
		Endpoint:  endpoint,
		Region:    os.Getenv("OAFETCH_TEST_S3_REGION"),
		PathStyle: true,
		AccessKey: os.Getenv("OAFETCH_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("OAFETCH_TEST_S3_SECRET_KEY"),
	}
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// newBucket creates a fresh bucket, emptied and removed when t ends.
func newBucket(t testing.TB) string {
	t.Helper()
	opts := testOptions(t)
	bucket := randomName("oafetch-test-")
	c := client(t, opts)
	if err := c.MakeBucket(t.Context(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				_ = c.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		for u := range c.ListIncompleteUploads(ctx, bucket, "", true) {
			if u.Err == nil {
				_ = c.RemoveIncompleteUpload(ctx, bucket, u.Key)
			}
		}
		if err := c.RemoveBucket(ctx, bucket); err != nil {
			t.Errorf("RemoveBucket %s: %v", bucket, err)
		}
	})
	return bucket
}

func client(t testing.TB, opts s3store.Options) *minio.Client {
	t.Helper()
	c, err := s3store.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestArtifactStoreConformance(t *testing.T) {
	t.Parallel()
	bucket := newBucket(t)
	fulltexttest.RunArtifactStoreTests(t, func(t *testing.T) fulltext.ArtifactStore {
		s, err := s3store.Open(t.Context(), bucket, randomName("run-")+"/out", testOptions(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

// TestMultipartStreamed commits a body of several parts and checks the
// bytes, the content key and that the temp went through a multipart upload
// (more than one part buffer).
func TestMultipartStreamed(t *testing.T) {
	t.Parallel()
	bucket := newBucket(t)
	opts := testOptions(t)
	opts.PartSize = 5 << 20
	s, err := s3store.Open(t.Context(), bucket, "big", opts)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 12<<20+12345)
	_, _ = rand.Read(body)
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	tmp, err := s.Create(t.Context(), fulltext.Lease{JobID: 1, Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Abort()
	// Write in odd-sized pieces as a download would.
	for off := 0; off < len(body); off += 32 << 10 {
		if _, err := tmp.Write(body[off:min(off+32<<10+7, len(body))]); err != nil {
			t.Fatal(err)
		}
		off += 7
	}
	a, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/big.pdf", SHA256: want, Kind: fulltext.KindPDF})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if a.Bytes != int64(len(body)) || a.SHA256 != want {
		t.Fatalf("Commit = %+v", a)
	}
	rc, err := s.Open(t.Context(), "pdf/big.pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(body))
	}
	info, err := s.Client().StatObject(t.Context(), bucket, "big/pdf/big.pdf", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "application/pdf" || info.UserMetadata["Sha256"] != want {
		t.Errorf("friendly object: content type %q, sha256 meta %q", info.ContentType, info.UserMetadata["Sha256"])
	}
}

func TestOpenMissingBucket(t *testing.T) {
	t.Parallel()
	if _, err := s3store.Open(t.Context(), randomName("missing-"), "", testOptions(t)); err == nil {
		t.Fatal("Open of a missing bucket succeeded")
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in             string
		bucket, prefix string
		ok             bool
	}{
		{"s3://bucket/prefix/more/", "bucket", "prefix/more", true},
		{"s3://bucket", "bucket", "", true},
		{"s3://bucket/", "bucket", "", true},
		{"s3:///prefix", "", "", false},
		{"http://bucket/prefix", "", "", false},
		{"s3://key:secret@bucket/p", "", "", false},
		{"s3://bucket/p?x=1", "", "", false},
	} {
		b, p, err := s3store.ParseURL(tc.in)
		if (err == nil) != tc.ok || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tc.in, b, p, err)
		}
	}
}
