package download_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/s3store"
)

// s3Options returns the options of the test S3 server
// (scripts/test-services.sh), with a transport of its own whose idle
// connections are closed when t ends (goleak). Without a server the test
// is skipped locally and fails in CI.
func s3Options(t *testing.T) s3store.Options {
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

// s3Bucket creates a fresh bucket, emptied and removed when t ends.
func s3Bucket(t *testing.T, opts s3store.Options) string {
	t.Helper()
	c, err := s3store.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	bucket := "oafetch-dl-" + hex.EncodeToString(b)
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

// attemptS3 fetches the candidate for lease l with a new Downloader on a
// store handle opened anew, as a new process would.
func attemptS3(t *testing.T, srv *httptest.Server, bucket string, opts s3store.Options, l fulltext.Lease) (*download.Fetched, *s3store.Store, error) {
	t.Helper()
	st, err := s3store.Open(t.Context(), bucket, "out", opts)
	if err != nil {
		t.Fatal(err)
	}
	d := download.New(download.Config{}, srv.Client(), st)
	f, err := d.Fetch(t.Context(), l, fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
	if f != nil {
		t.Cleanup(func() { _ = f.Abort() })
	}
	return f, st, err
}

// TestResumeAcrossAttemptsS3 is TestResumeAcrossAttempts on the S3 store:
// the first attempt is cut at a random offset and its prefix is kept in
// the bucket; the second (new epoch, store handle and Downloader) sends
// one Range + If-Range request, stores the original bytes and leaves
// nothing kept. The 6 MiB case with 5 MiB parts keeps a prefix that went
// through a multipart upload.
func TestResumeAcrossAttemptsS3(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		seed     uint64
		size     int
		partSize uint64
		etag     string
	}{
		{seed: 0, size: 1 << 20, etag: `"v1"`},
		{seed: 1, size: 1 << 20}, // resumes on Last-Modified
		{seed: 2, size: 6 << 20, partSize: 5 << 20, etag: `"big"`},
	} {
		t.Run(fmt.Sprintf("seed=%d,size=%d", tc.seed, tc.size), func(t *testing.T) {
			t.Parallel()
			opts := s3Options(t)
			opts.PartSize = tc.partSize
			bucket := s3Bucket(t, opts)
			content := makePDF(tc.size)
			size := int64(len(content))
			rng := mrand.New(mrand.NewPCG(tc.seed, 7))
			low := int64(download.HeadSize + 1)
			if tc.partSize != 0 {
				low = int64(tc.partSize) + 1 // the prefix spans more than one part
			}
			cut := low + rng.Int64N(size-low-1)
			s := &attemptServer{flakyServer: &flakyServer{content: content, cuts: []int64{cut}, etag: tc.etag,
				modtime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
			srv := httptest.NewServer(s)
			t.Cleanup(srv.Close)

			_, st, err := attemptS3(t, srv, bucket, opts, fulltext.Lease{JobID: lease.JobID, Epoch: 1})
			if c := fulltext.CodeOf(err); c != fulltext.CodeTruncated {
				t.Fatalf("first attempt = %v, want truncated", err)
			}
			if jobs, err := st.KeptJobs(t.Context()); err != nil || len(jobs) != 1 || jobs[0] != lease.JobID {
				t.Fatalf("kept jobs = %v, %v; want [%d]", jobs, err, lease.JobID)
			}
			if temps, err := st.Temps(t.Context()); err != nil || len(temps) != 0 {
				t.Fatalf("lease temps left: %v, %v", temps, err)
			}

			s.second.Store(true)
			f, st, err := attemptS3(t, srv, bucket, opts, fulltext.Lease{JobID: lease.JobID, Epoch: 2})
			if err != nil {
				t.Fatalf("second attempt after a cut at %d: %v", cut, err)
			}
			if f.SHA256 != sha(content) || f.Bytes != size {
				t.Fatalf("got %d bytes sha %s, want the original", f.Bytes, f.SHA256)
			}
			reqs := s.secondReqs()
			if len(reqs) != 1 {
				t.Fatalf("%d requests in the second attempt, want 1", len(reqs))
			}
			if got, want := reqs[0].Get("Range"), fmt.Sprintf("bytes=%d-", cut); got != want || reqs[0].Get("If-Range") == "" {
				t.Fatalf("second attempt sent Range %q If-Range %q, want %q and a validator", got, reqs[0].Get("If-Range"), want)
			}
			sent := s.sent.Load()
			if float64(sent) >= 1.2*float64(size) {
				t.Fatalf("%d bytes sent for a %d-byte file", sent, size)
			}
			t.Logf("cut at %d: %d bytes sent for a %d-byte file (%.3f×)", cut, sent, size, float64(sent)/float64(size))
			if jobs, err := st.KeptJobs(t.Context()); err != nil || len(jobs) != 0 {
				t.Fatalf("kept prefixes left after the resumed download: %v, %v", jobs, err)
			}
			d := download.New(download.Config{}, srv.Client(), st)
			a, err := d.Commit(t.Context(), f, workID)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := st.Open(t.Context(), a.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) {
				t.Fatalf("stored %d bytes differ from the original", len(got))
			}
		})
	}
}
