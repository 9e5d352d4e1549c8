package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// progress counts finished jobs by outcome and shows them: a live line on a
// terminal, a log line every 10 s otherwise. It implements worker.Observer.
type progress struct {
	out   io.Writer
	store fulltext.JobStore
	log   *slog.Logger
	tty   bool

	done     atomic.Int64
	outcomes sync.Map // fulltext.Outcome → *atomic.Int64
	started  time.Time
}

func newProgress(out io.Writer, store fulltext.JobStore, log *slog.Logger) *progress {
	tty := false
	if f, ok := out.(*os.File); ok && os.Getenv("TERM") != "dumb" {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{out: out, store: store, log: log, tty: tty, started: time.Now()}
}

// JobFinished counts one finished attempt.
func (p *progress) JobFinished(_ fulltext.Job, f fulltext.Finish, _ []fulltext.Attempt) {
	if f.State == fulltext.StatePlanned {
		return // a retry later, not done
	}
	p.done.Add(1)
	v, _ := p.outcomes.LoadOrStore(f.Outcome, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (p *progress) count(o fulltext.Outcome) int64 {
	if v, ok := p.outcomes.Load(o); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (p *progress) line() string {
	done := p.done.Load()
	el := time.Since(p.started).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el
	}
	return fmt.Sprintf("done %d  ok %d  absent %d  blocked %d  invalid %d  retry %d  (%.1f/s)",
		done, p.count(fulltext.OutcomeOK), p.count(fulltext.OutcomeAbsent), p.count(fulltext.OutcomeBlocked),
		p.count(fulltext.OutcomeInvalid), p.count(fulltext.OutcomeRetry), rate)
}

// start shows progress until the returned function is called.
func (p *progress) start(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		every := 10 * time.Second
		if p.tty {
			every = 200 * time.Millisecond
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if p.tty {
					fmt.Fprintf(p.out, "\r\033[K%s\n", p.line())
				}
				return
			case <-t.C:
				if p.tty {
					fmt.Fprintf(p.out, "\r\033[K%s", p.line())
				} else {
					p.log.Info("progress", "status", p.line())
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
