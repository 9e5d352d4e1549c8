package telemetry

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func readAll(t *testing.T, path string) []Event {
	t.Helper()
	var out []Event
	skipped, err := ReadEvents(path, func(e Event) error { out = append(out, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 0 {
		t.Errorf("%d lines did not parse", skipped)
	}
	return out
}

func TestSinkWritesEveryEventByClose(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "events.jsonl")
	s, err := OpenSink(SinkConfig{Path: path, Buffer: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if !s.Emit(Event{Type: EventAttempt, JobID: int64(g), Seq: i + 1, Time: time.Unix(1, 0)}) {
					t.Errorf("event dropped with room in the queue")
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if s.Emit(Event{Type: EventAttempt}) {
		t.Error("Emit after Close reported success")
	}
	evs := readAll(t, path)
	if len(evs) != 2000 || s.Written() != 2000 {
		t.Fatalf("read %d events, written %d, want 2000", len(evs), s.Written())
	}
	last := map[int64]int{}
	for _, e := range evs {
		if e.Seq != last[e.JobID]+1 {
			t.Fatalf("job %d: seq %d after %d: one goroutine's events out of order", e.JobID, e.Seq, last[e.JobID])
		}
		last[e.JobID] = e.Seq
	}
}

func TestSinkRotatesBySize(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := OpenSink(SinkConfig{Path: path, MaxBytes: 2000, Keep: 2, Buffer: 1000})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		s.Emit(Event{Type: EventJobPlanned, WorkID: fmt.Sprintf("doi:10.1/%04d", i), Time: time.Unix(1, 0)})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("rotated file missing: %v", err)
		}
		if fi.Size() > 2000 {
			t.Errorf("%s is %d bytes, over MaxBytes", name, fi.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("more rotated files kept than Keep")
	}
	evs := readAll(t, path)
	if len(evs) == 0 || len(evs) >= n {
		t.Fatalf("read %d events: want the newest few, oldest dropped by rotation", len(evs))
	}
	// The newest are kept, oldest first.
	if got := evs[len(evs)-1].WorkID; got != fmt.Sprintf("doi:10.1/%04d", n-1) {
		t.Errorf("last event %s, want the last emitted", got)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].WorkID <= evs[i-1].WorkID {
			t.Fatalf("events out of order across rotated files: %s after %s", evs[i].WorkID, evs[i-1].WorkID)
		}
	}
}

// A full queue is made deterministic by a sink whose writer never runs:
// Emit must return at once and count the drop.
func TestSinkDropsWhenFullInsteadOfBlocking(t *testing.T) {
	t.Parallel()
	s := &Sink{ch: make(chan Event, 2), done: make(chan struct{})}
	for range 2 {
		if !s.Emit(Event{Type: EventAttempt}) {
			t.Fatal("dropped with room")
		}
	}
	done := make(chan bool)
	go func() { done <- s.Emit(Event{Type: EventAttempt}) }()
	if <-done {
		t.Error("Emit on a full queue reported success")
	}
	if s.Dropped() != 1 {
		t.Errorf("dropped %d, want 1", s.Dropped())
	}
}

func TestReadEventsSkipsTornLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	body := `{"time":"2026-01-01T00:00:00Z","type":"job_leased","job_id":1,"claim_ms":1.5}` + "\n" + `{"time":"2026-01-01T00:00:01Z","ty`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []Event
	skipped, err := ReadEvents(path, func(e Event) error { got = append(got, e); return nil })
	if err != nil || skipped != 1 || len(got) != 1 || *got[0].ClaimMS != 1.5 {
		t.Fatalf("got %+v skipped %d err %v", got, skipped, err)
	}
	if n, err := ReadEvents(filepath.Join(t.TempDir(), "none"), func(Event) error { return nil }); err != nil || n != 0 {
		t.Errorf("missing log: %d, %v", n, err)
	}
}

// Two processes appending to one log (two Sinks stand in for them): every
// line stays whole, and nothing is lost while no rotation happens.
func TestSinksSharingOneLogNeverInterleave(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	long := strings.Repeat("x", 3000) // lines of ~3 KiB cross any small write boundary
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenSink(SinkConfig{Path: path, Buffer: 5000})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 400 {
				s.Emit(Event{Type: EventAttempt, JobID: int64(p), Seq: i + 1, Detail: long})
			}
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	evs := readAll(t, path) // fails on any torn line
	if len(evs) != 800 {
		t.Fatalf("%d events, want 800", len(evs))
	}
}
