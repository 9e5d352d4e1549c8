package fulltexttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// RunArtifactStoreTests is the conformance suite every fulltext.ArtifactStore
// passes. newStore returns a fresh, empty store for each subtest; it is
// called from parallel subtests.
func RunArtifactStoreTests(t *testing.T, newStore func(t *testing.T) fulltext.ArtifactStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s fulltext.ArtifactStore)
	}{
		{"RoundTrip", artTestRoundTrip},
		{"Dedupe", artTestDedupe},
		{"CommitIdempotent", artTestCommitIdempotent},
		{"CommitChecksumMismatch", artTestChecksumMismatch},
		{"AbortRemovesTemp", artTestAbort},
		{"TempsAndRemoveTemp", artTestTemps},
		{"WalkAndRemove", artTestWalkRemove},
		{"NotFound", artTestNotFound},
		{"ConcurrentSameContent", artTestConcurrentCommit},
		{"BadNames", artTestBadNames},
		{"CancelledContext", artTestCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func artSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// artWriteTemp creates a temp for lease l holding body.
func artWriteTemp(t *testing.T, s fulltext.ArtifactStore, l fulltext.Lease, body []byte) fulltext.TempArtifact {
	t.Helper()
	tmp, err := s.Create(t.Context(), l)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Write in two pieces: stores must append.
	half := len(body) / 2
	for _, part := range [][]byte{body[:half], body[half:]} {
		if _, err := tmp.Write(part); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if got := tmp.Size(); got != int64(len(body)) {
		t.Fatalf("Size = %d, want %d", got, len(body))
	}
	return tmp
}

func artCommit(t *testing.T, s fulltext.ArtifactStore, l fulltext.Lease, path string, body []byte) fulltext.Artifact {
	t.Helper()
	tmp := artWriteTemp(t, s, l, body)
	a, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: path, SHA256: artSum(body), Kind: fulltext.KindPDF})
	if err != nil {
		t.Fatalf("Commit %s: %v", path, err)
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	return a
}

func artReadAll(t *testing.T, s fulltext.ArtifactStore, path string) []byte {
	t.Helper()
	rc, err := s.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

func artTempNames(t *testing.T, s fulltext.ArtifactStore) []string {
	t.Helper()
	temps, err := s.Temps(t.Context())
	if err != nil {
		t.Fatalf("Temps: %v", err)
	}
	var names []string
	for _, ti := range temps {
		names = append(names, ti.Name)
	}
	return names
}

func artBody(seed string, n int) []byte {
	return bytes.Repeat([]byte(seed), n/len(seed)+1)[:n]
}

var artLease = fulltext.Lease{JobID: 7, Epoch: 3, Owner: "w1"}

func artTestRoundTrip(t *testing.T, s fulltext.ArtifactStore) {
	want := artBody("%PDF-1.7 round trip ", 70_000)
	a := artCommit(t, s, artLease, "pdf/10.5555_rt.pdf", want)
	if a.Path != "pdf/10.5555_rt.pdf" || a.SHA256 != artSum(want) || a.Bytes != int64(len(want)) || a.Existing {
		t.Fatalf("Commit = %+v", a)
	}
	if a.ContentPath == "" || a.ContentPath == a.Path {
		t.Fatalf("ContentPath = %q, want a content address", a.ContentPath)
	}
	if got := artReadAll(t, s, a.Path); !bytes.Equal(got, want) {
		t.Fatalf("Open(%s): %d bytes differ from the %d written", a.Path, len(got), len(want))
	}
	if got := artReadAll(t, s, a.ContentPath); !bytes.Equal(got, want) {
		t.Fatalf("Open(%s): content path bytes differ", a.ContentPath)
	}
	size, err := s.Stat(t.Context(), a.Path)
	if err != nil || size != int64(len(want)) {
		t.Fatalf("Stat = %d, %v; want %d", size, err, len(want))
	}
	if names := artTempNames(t, s); len(names) != 0 {
		t.Fatalf("temps left after Commit: %v", names)
	}
}

func artTestDedupe(t *testing.T, s fulltext.ArtifactStore) {
	same := artBody("identical bytes ", 5000)
	a1 := artCommit(t, s, artLease, "pdf/a.pdf", same)
	a2 := artCommit(t, s, fulltext.Lease{JobID: 8, Epoch: 1}, "pdf/b.pdf", same)
	if a1.Existing || !a2.Existing {
		t.Fatalf("Existing = %v, %v; want false, true", a1.Existing, a2.Existing)
	}
	if a1.ContentPath != a2.ContentPath || a1.SHA256 != a2.SHA256 {
		t.Fatalf("content paths differ: %+v vs %+v", a1, a2)
	}
	for _, p := range []string{"pdf/a.pdf", "pdf/b.pdf"} {
		if got := artReadAll(t, s, p); !bytes.Equal(got, same) {
			t.Fatalf("Open(%s) differs", p)
		}
	}
	other := artCommit(t, s, artLease, "pdf/c.pdf", artBody("other bytes ", 5000))
	if other.Existing || other.ContentPath == a1.ContentPath {
		t.Fatalf("different content deduped: %+v", other)
	}
}

func artTestCommitIdempotent(t *testing.T, s fulltext.ArtifactStore) {
	b := artBody("idempotent ", 3000)
	tmp := artWriteTemp(t, s, artLease, b)
	name := fulltext.ArtifactName{Path: "xml/x.xml", SHA256: artSum(b), Kind: fulltext.KindXML}
	a1, err := s.Commit(t.Context(), tmp, name)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	a2, err := s.Commit(t.Context(), tmp, name)
	if err != nil || a2 != a1 {
		t.Fatalf("second Commit of the same temp = %+v, %v; want %+v", a2, err, a1)
	}
	// The same content and name again, from a new temp (a replay).
	a3 := artCommit(t, s, artLease, "xml/x.xml", b)
	if !a3.Existing || a3.Path != a1.Path || a3.ContentPath != a1.ContentPath || a3.Bytes != a1.Bytes {
		t.Fatalf("replayed Commit = %+v, want same as %+v with Existing", a3, a1)
	}
	if got := artReadAll(t, s, "xml/x.xml"); !bytes.Equal(got, b) {
		t.Fatal("content changed after replay")
	}
	// A new version of the work replaces the friendly path.
	nb := artBody("new version ", 3000)
	artCommit(t, s, artLease, "xml/x.xml", nb)
	if got := artReadAll(t, s, "xml/x.xml"); !bytes.Equal(got, nb) {
		t.Fatal("friendly path not replaced by new content")
	}
}

func artTestChecksumMismatch(t *testing.T, s fulltext.ArtifactStore) {
	tmp := artWriteTemp(t, s, artLease, []byte("some bytes"))
	_, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/bad.pdf", SHA256: artSum([]byte("other")), Kind: fulltext.KindPDF})
	if err == nil {
		t.Fatal("Commit with a wrong sha256 succeeded")
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := s.Stat(t.Context(), "pdf/bad.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Stat after failed Commit: %v, want ErrNotFound", err)
	}
}

func artTestAbort(t *testing.T, s fulltext.ArtifactStore) {
	tmp := artWriteTemp(t, s, artLease, []byte("partial"))
	if names := artTempNames(t, s); !slices.Contains(names, tmp.Name()) {
		t.Fatalf("Temps = %v, want %s listed", names, tmp.Name())
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := tmp.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	if names := artTempNames(t, s); len(names) != 0 {
		t.Fatalf("Temps after Abort = %v", names)
	}
	if _, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: "pdf/aborted.pdf"}); err == nil {
		t.Fatal("Commit after Abort succeeded")
	}
}

func artTestTemps(t *testing.T, s fulltext.ArtifactStore) {
	a := artWriteTemp(t, s, fulltext.Lease{JobID: 41, Epoch: 2}, []byte("a"))
	b := artWriteTemp(t, s, fulltext.Lease{JobID: 42, Epoch: 9}, []byte("b"))
	temps, err := s.Temps(t.Context())
	if err != nil {
		t.Fatalf("Temps: %v", err)
	}
	got := map[string]fulltext.TempInfo{}
	for _, ti := range temps {
		got[ti.Name] = ti
	}
	want := map[string][2]int64{a.Name(): {41, 2}, b.Name(): {42, 9}}
	if len(got) != len(want) {
		t.Fatalf("Temps = %+v, want %d entries", temps, len(want))
	}
	for name, je := range want {
		ti, ok := got[name]
		if !ok || ti.JobID != je[0] || ti.Epoch != je[1] {
			t.Fatalf("Temps[%s] = %+v, want job %d epoch %d", name, ti, je[0], je[1])
		}
	}
	if err := s.RemoveTemp(t.Context(), a.Name()); err != nil {
		t.Fatalf("RemoveTemp: %v", err)
	}
	if names := artTempNames(t, s); !slices.Equal(names, []string{b.Name()}) {
		t.Fatalf("Temps after RemoveTemp = %v", names)
	}
	if err := s.RemoveTemp(t.Context(), a.Name()); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("RemoveTemp of a removed temp: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/b.part", ""} {
		if err := s.RemoveTemp(t.Context(), bad); err == nil {
			t.Fatalf("RemoveTemp(%q) succeeded", bad)
		}
	}
	if err := a.Abort(); err != nil {
		t.Fatalf("Abort of a removed temp: %v", err)
	}
}

func artTestWalkRemove(t *testing.T, s fulltext.ArtifactStore) {
	files := map[string][]byte{
		"pdf/one.pdf":  artBody("one ", 1500),
		"pdf/two.pdf":  artBody("two ", 2500),
		"xml/tri.xml":  artBody("<article/> ", 300),
		"html/q.html":  artBody("<html> ", 700),
		"pdf/same.pdf": artBody("one ", 1500),
	}
	for p, b := range files {
		artCommit(t, s, artLease, p, b)
	}
	artWriteTemp(t, s, artLease, []byte("in flight")) // temps are not listed
	got := map[string]int64{}
	err := s.Walk(t.Context(), func(p string, size int64) error {
		got[p] = size
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(got) != len(files) {
		t.Fatalf("Walk = %v, want %d friendly paths", got, len(files))
	}
	for p, b := range files {
		if got[p] != int64(len(b)) {
			t.Fatalf("Walk[%s] = %d, want %d", p, got[p], len(b))
		}
	}
	stop := errors.New("stop")
	if err := s.Walk(t.Context(), func(string, int64) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Walk with failing fn = %v, want stop", err)
	}
	if err := s.Remove(t.Context(), "pdf/one.pdf"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Stat(t.Context(), "pdf/one.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Stat after Remove: %v", err)
	}
	// The other path with the same content still opens.
	if got := artReadAll(t, s, "pdf/same.pdf"); !bytes.Equal(got, files["pdf/same.pdf"]) {
		t.Fatal("removing one path damaged a path with the same content")
	}
	if err := s.Remove(t.Context(), "pdf/one.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("second Remove = %v, want ErrNotFound", err)
	}
}

func artTestNotFound(t *testing.T, s fulltext.ArtifactStore) {
	if _, err := s.Open(t.Context(), "pdf/missing.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Open missing: %v", err)
	}
	if _, err := s.Stat(t.Context(), "pdf/missing.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Stat missing: %v", err)
	}
	if err := s.Remove(t.Context(), "pdf/missing.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Remove missing: %v", err)
	}
}

func artTestConcurrentCommit(t *testing.T, s fulltext.ArtifactStore) {
	const n = 6
	b := artBody("raced content ", 20_000)
	var wg sync.WaitGroup
	results := make([]fulltext.Artifact, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			l := fulltext.Lease{JobID: int64(100 + i), Epoch: 1}
			tmp, err := s.Create(context.WithoutCancel(t.Context()), l)
			if err != nil {
				errs[i] = err
				return
			}
			defer tmp.Abort()
			if _, err := tmp.Write(b); err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = s.Commit(t.Context(), tmp, fulltext.ArtifactName{
				Path: fmt.Sprintf("pdf/w%d.pdf", i%3), SHA256: artSum(b), Kind: fulltext.KindPDF})
		})
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if !results[i].Existing {
			fresh++
		}
		if results[i].ContentPath != results[0].ContentPath {
			t.Fatalf("content paths differ: %q vs %q", results[i].ContentPath, results[0].ContentPath)
		}
	}
	if fresh < 1 {
		t.Fatalf("%d commits stored the content, want at least 1", fresh)
	}
	for i := range 3 {
		if got := artReadAll(t, s, fmt.Sprintf("pdf/w%d.pdf", i)); !bytes.Equal(got, b) {
			t.Fatalf("pdf/w%d.pdf differs", i)
		}
	}
	if names := artTempNames(t, s); len(names) != 0 {
		t.Fatalf("temps left: %v", names)
	}
}

func artTestBadNames(t *testing.T, s fulltext.ArtifactStore) {
	b := []byte("evil")
	for _, p := range []string{
		"../escape.pdf", "pdf/../../escape.pdf", "/abs/olute.pdf", `pdf\win.pdf`,
		"", ".", "pdf/", "pdf//x.pdf", "./x.pdf", "pdf/./x.pdf", "a/..", "nul\x00.pdf",
	} {
		tmp := artWriteTemp(t, s, artLease, b)
		if _, err := s.Commit(t.Context(), tmp, fulltext.ArtifactName{Path: p, SHA256: artSum(b)}); err == nil {
			t.Errorf("Commit(%q) succeeded", p)
		}
		if err := tmp.Abort(); err != nil {
			t.Fatalf("Abort: %v", err)
		}
		if _, err := s.Open(t.Context(), p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
		if err := s.Remove(t.Context(), p); err == nil {
			t.Errorf("Remove(%q) succeeded", p)
		}
	}
	err := s.Walk(t.Context(), func(p string, _ int64) error {
		return fmt.Errorf("unexpected committed path %q", p)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func artTestCancelled(t *testing.T, s fulltext.ArtifactStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Create(ctx, artLease); err == nil {
		t.Fatal("Create with a cancelled context succeeded")
	}
	tmp := artWriteTemp(t, s, artLease, []byte("cancelled"))
	defer tmp.Abort()
	if _, err := s.Commit(ctx, tmp, fulltext.ArtifactName{Path: "pdf/c.pdf"}); err == nil {
		t.Fatal("Commit with a cancelled context succeeded")
	}
	if _, err := s.Stat(t.Context(), "pdf/c.pdf"); !errors.Is(err, fulltext.ErrNotFound) {
		t.Fatalf("Stat after cancelled Commit: %v", err)
	}
}
