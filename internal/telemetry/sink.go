package telemetry

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// SinkConfig configures OpenSink.
type SinkConfig struct {
	// Path is the event log file; its directory is created.
	Path string
	// MaxBytes rotates the file when it grows past this size: Path becomes
	// Path.1, Path.1 becomes Path.2 … up to Keep. Defaults to 64 MiB.
	MaxBytes int64
	// Keep is the number of rotated files kept. Defaults to 3.
	Keep int
	// Buffer is the number of events queued before Emit drops. Defaults to
	// 8192.
	Buffer int
}

// Sink writes events as JSON lines, asynchronously: Emit never blocks and
// drops the event (counting it) when the queue is full, so a slow disk
// never slows a download. Close drains the queue, so a clean shutdown
// loses nothing. A Sink is safe for concurrent use.
//
// Several processes (`oafetch work` ×N on one --out) may append to one log:
// the file is opened O_APPEND and written only in whole lines, one write
// per batch, so lines never interleave; a process that finds the file
// already rotated by another reopens it instead of rotating again.
type Sink struct {
	cfg     SinkConfig
	ch      chan Event
	done    chan struct{}
	dropped atomic.Int64
	written atomic.Int64

	mu     sync.RWMutex // guards closed against Emit racing Close
	closed bool

	// Owned by the writer goroutine.
	f    *os.File
	buf  []byte // whole lines not yet written
	size int64  // bytes in the file, as far as this process knows
	err  error
}

// OpenSink opens (appending) the event log and starts its writer.
func OpenSink(cfg SinkConfig) (*Sink, error) {
	cfg.MaxBytes = cmp.Or(cfg.MaxBytes, 64<<20)
	cfg.Keep = cmp.Or(cfg.Keep, 3)
	cfg.Buffer = cmp.Or(cfg.Buffer, 8192)
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, fmt.Errorf("telemetry: open event log: %w", err)
	}
	s := &Sink{cfg: cfg, ch: make(chan Event, cfg.Buffer), done: make(chan struct{})}
	if err := s.open(); err != nil {
		return nil, err
	}
	go s.run()
	return s, nil
}

// Emit queues e; it never blocks. It reports false when e was dropped (the
// queue is full or the sink closed).
func (s *Sink) Emit(e Event) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return false
	}
	select {
	case s.ch <- e:
		return true
	default:
		s.dropped.Add(1)
		return false
	}
}

// Dropped is the number of events Emit dropped.
func (s *Sink) Dropped() int64 { return s.dropped.Load() }

// Written is the number of events accepted for the file so far (all of
// them are on disk after Close returns nil).
func (s *Sink) Written() int64 { return s.written.Load() }

// Close writes every queued event, syncs and closes the file, and returns
// the first write error. Safe to call more than once.
func (s *Sink) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
	<-s.done
	return s.err
}

func (s *Sink) open() error {
	f, err := os.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("telemetry: open event log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("telemetry: open event log: %w", err)
	}
	s.f, s.size = f, fi.Size()
	return nil
}

func (s *Sink) run() {
	defer close(s.done)
	for e := range s.ch {
		s.write(e)
		if len(s.ch) == 0 && s.err == nil {
			// Idle: make what we have visible to `tail -f` and to report.
			s.fail(s.flush())
		}
	}
	if s.f != nil {
		s.fail(s.flush())
		s.fail(s.f.Sync())
		s.fail(s.f.Close())
	}
}

// flush writes the buffered lines in one write.
func (s *Sink) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	n, err := s.f.Write(s.buf)
	s.size += int64(n)
	s.buf = s.buf[:0]
	return err
}

func (s *Sink) fail(err error) {
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("telemetry: event log %s: %w", s.cfg.Path, err)
	}
}

func (s *Sink) write(e Event) {
	if s.err != nil {
		s.dropped.Add(1)
		return
	}
	line, err := json.Marshal(e)
	if err != nil {
		s.fail(err)
		return
	}
	line = append(line, '\n')
	if s.size+int64(len(s.buf)+len(line)) > s.cfg.MaxBytes && s.size+int64(len(s.buf)) > 0 {
		s.fail(s.rotate())
		if s.err != nil {
			return
		}
	}
	if len(s.buf)+len(line) > 64<<10 {
		s.fail(s.flush())
		if s.err != nil {
			return
		}
	}
	s.buf = append(s.buf, line...)
	s.written.Add(1)
}

// rotate shifts Path.k to Path.k+1 (dropping the oldest), Path to Path.1,
// and starts a new Path.
func (s *Sink) rotate() error {
	if err := s.flush(); err != nil {
		return err
	}
	mine, err := s.f.Stat()
	if err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	s.f = nil
	p := s.cfg.Path
	if cur, err := os.Stat(p); err == nil && !os.SameFile(mine, cur) {
		return s.open() // another process rotated it already
	}
	for k := s.cfg.Keep - 1; k >= 1; k-- {
		if err := os.Rename(p+"."+strconv.Itoa(k), p+"."+strconv.Itoa(k+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(p, p+".1"); err != nil {
		return err
	}
	return s.open()
}

// ReadEvents calls fn for every event of the log at path, rotated files
// first (oldest first). A missing log is no error (no event). Lines that
// do not parse (a torn last line after a crash) are skipped and counted.
func ReadEvents(path string, fn func(Event) error) (skipped int, err error) {
	var files []string
	for k := 64; k >= 1; k-- {
		name := path + "." + strconv.Itoa(k)
		if _, err := os.Stat(name); err == nil {
			files = append(files, name)
		}
	}
	files = append(files, path)
	for _, name := range files {
		n, err := readFile(name, fn)
		skipped += n
		if err != nil {
			return skipped, err
		}
	}
	return skipped, nil
}

func readFile(name string, fn func(Event) error) (int, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("telemetry: read events: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	skipped := 0
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			skipped++
			continue
		}
		if err := fn(e); err != nil {
			return skipped, err
		}
	}
	if err := sc.Err(); err != nil {
		return skipped, fmt.Errorf("telemetry: read events %s: %w", name, err)
	}
	return skipped, nil
}
