package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/telemetry"
)

// progressOutcomes are the counters shown, in order.
var progressOutcomes = []fulltext.Outcome{
	fulltext.OutcomeOK, fulltext.OutcomeAbsent, fulltext.OutcomeBlocked, fulltext.OutcomeInvalid,
	fulltext.OutcomeSkip, fulltext.OutcomeRetry, fulltext.OutcomeBudget, fulltext.OutcomeError,
}

// progress counts finished jobs by outcome and shows them: on a terminal
// a live line (done/total, rate, ETA, counters, active hosts) redrawn every
// 200 ms and left as a final line; otherwise a log line every 10 s. -q
// shows nothing; NO_COLOR (any value) or TERM=dumb turns colour off, and
// TERM=dumb the live line too. It implements worker.Observer.
type progress struct {
	out   io.Writer
	log   *slog.Logger
	hosts *telemetry.Metrics // nil: no host column
	tty   bool
	color bool
	quiet bool
	every time.Duration

	total    atomic.Int64 // jobs not terminal when the run started
	done     atomic.Int64
	outcomes sync.Map // fulltext.Outcome → *atomic.Int64
	started  time.Time
}

func newProgress(out io.Writer, environ []string, log *slog.Logger, quiet bool, hosts *telemetry.Metrics) *progress {
	env := func(k string) (string, bool) {
		for _, kv := range environ {
			if key, v, ok := strings.Cut(kv, "="); ok && key == k {
				return v, true
			}
		}
		return "", false
	}
	term, _ := env("TERM")
	tty := false
	if f, ok := out.(*os.File); ok && term != "dumb" {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	noColor, set := env("NO_COLOR")
	p := &progress{out: out, log: log, hosts: hosts, tty: tty, color: tty && !(set && noColor != ""), quiet: quiet, started: time.Now()}
	p.every = 10 * time.Second
	if tty {
		p.every = 200 * time.Millisecond
	}
	return p
}

// JobFinished counts one finished claim; a retry (back to PLANNED) is not
// done yet.
func (p *progress) JobFinished(_ fulltext.Job, f fulltext.Finish, _ []fulltext.Attempt) {
	if !f.State.Terminal() {
		return
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

// snapshot is one reading of the counters.
type snapshot struct {
	done, total int64
	rate        float64 // works per second
	eta         time.Duration
	hosts       []telemetry.HostLoad
}

func (p *progress) snap() snapshot {
	s := snapshot{done: p.done.Load(), total: p.total.Load()}
	s.total = max(s.total, s.done)
	if el := time.Since(p.started).Seconds(); el > 0 {
		s.rate = float64(s.done) / el
	}
	if s.rate > 0 && s.total > s.done {
		s.eta = time.Duration(float64(s.total-s.done) / s.rate * float64(time.Second)).Round(time.Second)
	}
	if p.hosts != nil {
		s.hosts = p.hosts.ActiveHosts()
	}
	return s
}

const (
	ansiReset  = "\033[0m"
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiRed    = "\033[31m"
	ansiBold   = "\033[1m"
)

func (p *progress) paint(code, s string) string {
	if !p.color {
		return s
	}
	return code + s + ansiReset
}

func outcomeColor(o fulltext.Outcome) string {
	switch o {
	case fulltext.OutcomeOK:
		return ansiGreen
	case fulltext.OutcomeAbsent, fulltext.OutcomeSkip, fulltext.OutcomeRetry, fulltext.OutcomeBudget:
		return ansiYellow
	}
	return ansiRed
}

// line renders the live line; final drops ETA and hosts.
func (p *progress) line(s snapshot, final bool) string {
	var b strings.Builder
	pct := 0.0
	if s.total > 0 {
		pct = 100 * float64(s.done) / float64(s.total)
	}
	b.WriteString(p.paint(ansiBold, fmt.Sprintf("%d/%d", s.done, s.total)))
	fmt.Fprintf(&b, " %3.0f%%  %.1f/s", pct, s.rate)
	if !final {
		if s.eta > 0 {
			fmt.Fprintf(&b, "  ETA %s", s.eta)
		} else {
			b.WriteString("  ETA -")
		}
	} else {
		fmt.Fprintf(&b, "  in %s", time.Since(p.started).Round(100*time.Millisecond))
	}
	b.WriteString("  |")
	for _, o := range progressOutcomes {
		n := p.count(o)
		if n == 0 && o != fulltext.OutcomeOK && o != fulltext.OutcomeAbsent && o != fulltext.OutcomeBlocked {
			continue
		}
		fmt.Fprintf(&b, " %s %d", p.paint(outcomeColor(o), string(o)), n)
	}
	if !final && len(s.hosts) > 0 {
		b.WriteString("  | hosts:")
		for i, h := range s.hosts {
			if i == 3 {
				fmt.Fprintf(&b, " +%d", len(s.hosts)-3)
				break
			}
			fmt.Fprintf(&b, " %s×%d", h.Host, h.InFlight)
		}
	}
	return b.String()
}

// logLine is the periodic line when not on a terminal.
func (p *progress) logLine(s snapshot) {
	args := []any{"done", s.done, "total", s.total, "rate_per_s", fmt.Sprintf("%.1f", s.rate), "eta", s.eta.String()}
	for _, o := range progressOutcomes {
		if n := p.count(o); n > 0 {
			args = append(args, string(o), n)
		}
	}
	if len(s.hosts) > 0 {
		hs := make([]string, 0, len(s.hosts))
		for _, h := range s.hosts {
			hs = append(hs, fmt.Sprintf("%s=%d", h.Host, h.InFlight))
		}
		args = append(args, "active_hosts", strings.Join(hs, ","))
	}
	p.log.Info("progress", args...)
}

// start shows progress until the returned function is called; the total
// is the number of jobs not terminal in store now.
func (p *progress) start(ctx context.Context, store fulltext.JobStore) func() {
	if st, err := store.Stats(ctx); err == nil {
		var n int64
		for s, c := range st.ByState {
			if !s.Terminal() {
				n += int64(c)
			}
		}
		p.total.Store(n)
	}
	p.started = time.Now()
	if p.quiet {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if p.tty {
					fmt.Fprintf(p.out, "\r\033[K%s\n", p.line(p.snap(), true))
				} else {
					p.logLine(p.snap())
				}
				return
			case <-t.C:
				if p.tty {
					fmt.Fprintf(p.out, "\r\033[K%s", p.line(p.snap(), false))
				} else {
					p.logLine(p.snap())
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
