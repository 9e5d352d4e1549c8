package filestore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

// BenchmarkCreateWriteCommit is one 100 KiB artifact through the store:
// create the temp file, write it in 32 KiB chunks (hashed while written),
// commit (fsync, rename, directory fsync, friendly link). MB/s counts the
// artifact's bytes.
func BenchmarkCreateWriteCommit(b *testing.B) {
	s, err := filestore.Open(b.TempDir(), filestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	body := make([]byte, 100<<10)
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		// Every artifact is distinct, as in a pull: no deduplication.
		copy(body, fmt.Sprintf("%%PDF-1.4 %d\n", i))
		sum := sha256.Sum256(body)
		l := fulltext.Lease{JobID: int64(i), Epoch: 1}
		tmp, err := s.Create(b.Context(), l)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(body); off += 32 << 10 {
			if _, err := tmp.Write(body[off:min(off+32<<10, len(body))]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Commit(b.Context(), tmp, fulltext.ArtifactName{
			Path: fmt.Sprintf("pdf/w%d.pdf", i), SHA256: hex.EncodeToString(sum[:]), Kind: fulltext.KindPDF,
		}); err != nil {
			b.Fatal(err)
		}
	}
}
