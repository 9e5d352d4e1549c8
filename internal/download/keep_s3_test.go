package download_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/s3store/s3storetest"
)

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
			opts := s3storetest.Options(t)
			opts.PartSize = tc.partSize
			bucket := s3storetest.Bucket(t, opts, "oafetch-dl-")
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

// stopS3Store is the S3 store whose temps call onWrite with their size
// after each write. Its temps add no method (no Checkpoint): the store's
// own behaviour is what is tested.
type stopS3Store struct {
	*s3store.Store
	onWrite func(size int64)
}

type stopTemp struct {
	fulltext.TempArtifact
	onWrite func(size int64)
}

func (t *stopTemp) Write(p []byte) (int, error) {
	n, err := t.TempArtifact.Write(p)
	t.onWrite(t.Size())
	return n, err
}

func (s *stopS3Store) Create(ctx context.Context, l fulltext.Lease) (fulltext.TempArtifact, error) {
	tmp, err := s.Store.Create(ctx, l)
	if err != nil {
		return nil, err
	}
	return &stopTemp{TempArtifact: tmp, onWrite: s.onWrite}, nil
}

// Keep keeps the S3 temp inside a stopTemp.
func (s *stopS3Store) Keep(ctx context.Context, tmp fulltext.TempArtifact, k fulltext.ResumeKey, info fulltext.ResumeInfo) error {
	if st, ok := tmp.(*stopTemp); ok {
		tmp = st.TempArtifact
	}
	return s.Store.Keep(ctx, tmp, k, info)
}

// TestStopKeepsBodyS3 is TestStopKeepsBody on the S3 store: a body in
// flight when the caller stops (a graceful stop past its grace) is kept in
// the bucket once past MinCheckpointBytes, and the next attempt asks only
// for the rest and stores the original bytes.
func TestStopKeepsBodyS3(t *testing.T) {
	t.Parallel()
	opts := s3storetest.Options(t)
	bucket := s3storetest.Bucket(t, opts, "oafetch-dl-")
	content := makePDF(8 << 20)
	fs := &flakyServer{content: content, etag: `"big-1"`, modtime: time.Unix(1_700_000_000, 0)}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	st, err := s3store.Open(t.Context(), bucket, "out", opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ss := &stopS3Store{Store: st, onWrite: func(n int64) {
		if n >= 2<<20 {
			cancel()
		}
	}}
	cand := fulltext.Candidate{URL: srv.URL + "/x.pdf", Kind: fulltext.KindPDF}
	_, err = download.New(download.Config{}, srv.Client(), ss).Fetch(ctx, lease, cand, download.Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want cancelled", err)
	}
	rc, info, found, err := st.Adopt(t.Context(), fulltext.ResumeKey{JobID: lease.JobID, URL: cand.URL})
	if err != nil || !found || info.Offset < 2<<20 || info.Total != int64(len(content)) {
		t.Fatalf("Adopt after a stop = %+v %v %v; want the prefix kept", info, found, err)
	}
	_ = rc.Close()
	if temps, err := st.Temps(t.Context()); err != nil || len(temps) != 0 {
		t.Fatalf("temps left: %v, %v", temps, err)
	}

	next := len(fs.reqs())
	f, _, err := attemptS3(t, srv, bucket, opts, fulltext.Lease{JobID: lease.JobID, Epoch: 2})
	if err != nil {
		t.Fatalf("attempt after the stop: %v", err)
	}
	if f.SHA256 != sha(content) || f.Bytes != int64(len(content)) {
		t.Fatalf("got %d bytes sha %s, want the original", f.Bytes, f.SHA256)
	}
	reqs := fs.reqs()[next:]
	if len(reqs) != 1 || reqs[0].Get("Range") != fmt.Sprintf("bytes=%d-", info.Offset) {
		t.Fatalf("requests after the stop: %v, want one with Range: bytes=%d-", reqs, info.Offset)
	}
}
