package s3store_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
	"github.com/oafetch/oafetch/internal/s3store"
	"github.com/oafetch/oafetch/internal/s3store/s3storetest"
)

func TestArtifactStoreConformance(t *testing.T) {
	t.Parallel()
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	fulltexttest.RunArtifactStoreTests(t, func(t *testing.T) fulltext.ArtifactStore {
		s, err := s3store.Open(t.Context(), bucket, s3storetest.Name("run-")+"/out", s3storetest.Options(t))
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
	bucket := s3storetest.Bucket(t, s3storetest.Options(t), "oafetch-test-")
	opts := s3storetest.Options(t)
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
	if _, err := s3store.Open(t.Context(), s3storetest.Name("missing-"), "", s3storetest.Options(t)); err == nil {
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
