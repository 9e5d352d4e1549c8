// Package s3storetest gives tests the S3-compatible server that
// scripts/test-services.sh starts (OAFETCH_TEST_S3_*): its options and
// throwaway buckets. Without a server a test is skipped locally and fails
// when CI is set.
package s3storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/s3store"
)

// Options returns the options of the test server, with a transport of
// their own whose idle connections are closed when t ends (so goleak sees
// none).
func Options(t testing.TB) s3store.Options {
	t.Helper()
	endpoint := os.Getenv("OAFETCH_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("OAFETCH_TEST_S3_ENDPOINT is not set: CI must start an S3 server (scripts/test-services.sh)")
		}
		t.Skip("OAFETCH_TEST_S3_ENDPOINT is not set; start a server with: eval \"$(scripts/test-services.sh start)\"")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return s3store.Options{
		Endpoint:  endpoint,
		Region:    os.Getenv("OAFETCH_TEST_S3_REGION"),
		PathStyle: true,
		AccessKey: os.Getenv("OAFETCH_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("OAFETCH_TEST_S3_SECRET_KEY"),
		Transport: tr,
	}
}

// Name returns prefix followed by 12 random hex digits.
func Name(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Bucket creates a fresh bucket named prefix + random hex digits on the
// server of opts, emptied (objects and incomplete uploads) and removed when
// t ends.
func Bucket(t testing.TB, opts s3store.Options, prefix string) string {
	t.Helper()
	c, err := s3store.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	bucket := Name(prefix)
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
