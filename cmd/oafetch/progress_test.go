package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// ptyOutput collects what is written to a pseudo-terminal's slave side.
type ptyOutput struct {
	tty *os.File // the slave: give it to the code under test
	mu  sync.Mutex
	buf bytes.Buffer
	new chan struct{}
	eof chan struct{}
}

func openPTY(t *testing.T) *ptyOutput {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no pseudo-terminal in CI: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	p := &ptyOutput{tty: tty, new: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		defer close(p.eof)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			select {
			case p.new <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = tty.Close()
		_ = master.Close()
		<-p.eof
	})
	return p
}

func (p *ptyOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// waitFor blocks until the terminal shows want (bounded by 10 s).
func (p *ptyOutput) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if s := p.String(); strings.Contains(s, want) {
			return s
		}
		select {
		case <-p.new:
		case <-p.eof:
			if s := p.String(); strings.Contains(s, want) {
				return s
			}
			t.Fatalf("terminal closed without %q:\n%q", want, p.String())
		case <-deadline:
			t.Fatalf("terminal never showed %q:\n%q", want, p.String())
		}
	}
}

func TestProgressLiveLineOnATerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		color   bool
	}{
		{"colour", []string{"TERM=xterm"}, true},
		{"NO_COLOR", []string{"TERM=xterm", "NO_COLOR=1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			term := openPTY(t)
			p := newProgress(term.tty, tt.environ, slog.New(slog.DiscardHandler), false, nil)
			if !p.tty {
				t.Fatal("a pseudo-terminal is not taken for a terminal")
			}
			p.every = 5 * time.Millisecond
			stop := p.start(t.Context(), emptyStore{})
			p.total.Store(4) // start read the (empty) store; the run has 4 jobs
			p.JobFinished(fulltext.Job{}, fulltext.Finish{State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK}, nil)
			p.JobFinished(fulltext.Job{}, fulltext.Finish{State: fulltext.StatePlanned, Outcome: fulltext.OutcomeRetry}, nil) // not done
			p.JobFinished(fulltext.Job{}, fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeBlocked}, nil)
			live := term.waitFor(t, "ETA")
			if !strings.Contains(live, "\r\033[K") {
				t.Errorf("live line is not redrawn in place: %q", live)
			}
			term.waitFor(t, "2/4")
			stop()
			out := term.waitFor(t, "\n")
			final := ansi.ReplaceAllString(out[strings.LastIndex(out, "\r\033[K"):], "")
			for _, want := range []string{"2/4", "50%", "ok", "blocked 1", "/s"} {
				if !strings.Contains(final, want) {
					t.Errorf("final line %q lacks %q", final, want)
				}
			}
			if got := strings.Contains(out, ansiGreen); got != tt.color {
				t.Errorf("colour codes present = %v, want %v: %q", got, tt.color, out)
			}
		})
	}
}

var ansi = regexp.MustCompile("\033\\[[0-9;]*[A-Za-z]")

// emptyStore is a job store with nothing in it (progress only asks Stats).
type emptyStore struct{ fulltext.JobStore }

func (emptyStore) Stats(context.Context) (fulltext.Stats, error) { return fulltext.Stats{}, nil }

func TestProgressLogsLinesWhenNotATerminal(t *testing.T) {
	t.Parallel()
	var logs, out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := newProgress(&out, []string{"TERM=xterm"}, log, false, nil)
	if p.tty {
		t.Fatal("a buffer is taken for a terminal")
	}
	stop := p.start(t.Context(), emptyStore{})
	p.JobFinished(fulltext.Job{}, fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeAbsent}, nil)
	stop()
	if out.Len() != 0 {
		t.Errorf("wrote to the non-terminal: %q", out.String())
	}
	if s := logs.String(); !strings.Contains(s, "msg=progress") || !strings.Contains(s, "done=1") || !strings.Contains(s, "absent=1") || strings.Contains(s, "\033") {
		t.Errorf("log line %q", s)
	}
}

func TestPullUnderAPseudoTerminal(t *testing.T) {
	t.Parallel()
	sim := startSim(t, 12)
	ids, works := writeInputs(t, sim)
	planned := len(works)
	term := openPTY(t)
	out := filepath.Join(sim.dir, "out")
	args := append([]string{"pull", "--input", ids, "--out", out, "--workers", "4"}, sim.flags...)
	if code := runWith(args, strings.NewReader(""), io.Discard, term.tty, []string{"TERM=xterm", "HOME=" + t.TempDir()}, appOptions{}); code != exitOK {
		t.Fatalf("pull exit %d:\n%s", code, term.String())
	}
	want := strconv.Itoa(planned) + "/" + strconv.Itoa(planned)
	screen := term.waitFor(t, want)
	if !strings.Contains(screen, "\r\033[K") || !strings.Contains(screen, "100%") {
		t.Errorf("no live progress line on the terminal:\n%q", screen)
	}
}
