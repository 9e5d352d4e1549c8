package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// A Plan transaction takes up to planBatch works or planBatchBytes of
// OpenAlex records, whichever comes first: big batches amortise the
// transaction (a million ids plan in seconds), the byte bound keeps memory
// flat when the input carries whole records.
const (
	planBatch      = 20000
	planBatchBytes = 32 << 20
)

// planCounts summarises a planning pass.
type planCounts struct {
	Read     int // works parsed
	Created  int // new jobs
	Existing int // works already known (re-plan)
	Bad      int // lines that are not works, reported with file and line
}

// planSink receives planned works: the job store, or a collector for dry runs.
type planSink interface {
	Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error)
}

// planner streams works into the job store in batches; memory stays flat
// whatever the size of the input.
type planner struct {
	store  planSink
	report io.Writer
	batch  []fulltext.Work
	bytes  int
	counts planCounts
	// max stops planning after this many works (0 = no limit).
	max int
	// async plans a full batch in another goroutine while the next one is
	// parsed (set by planInputs, which waits for it); spare is the buffer
	// of the next batch, inflight the result of the batch being planned.
	async    bool
	spare    []fulltext.Work
	inflight chan planDone
}

// planDone is the result of a batch planned in the background.
type planDone struct {
	res fulltext.PlanResult
	err error
}

func (p *planner) add(ctx context.Context, w fulltext.Work) error {
	if p.full() {
		return nil
	}
	p.counts.Read++
	p.batch = append(p.batch, w)
	p.bytes += len(w.Record)
	if len(p.batch) >= planBatch || p.bytes >= planBatchBytes {
		if p.async {
			return p.flushAsync(ctx)
		}
		return p.flush(ctx)
	}
	return nil
}

// flushAsync hands the batch to a goroutine that plans it, once the
// previous one is planned, and returns that one's error.
func (p *planner) flushAsync(ctx context.Context) error {
	if err := p.wait(); err != nil {
		return err
	}
	batch := p.batch
	p.batch, p.spare, p.bytes = p.spare[:0], nil, 0
	done := make(chan planDone, 1)
	p.inflight = done
	go func() {
		res, err := p.store.Plan(ctx, batch)
		done <- planDone{res, err}
	}()
	p.spare = batch // the goroutine is done with it once wait returns
	return nil
}

// wait waits for the batch planned in the background, if any, and counts it.
func (p *planner) wait() error {
	if p.inflight == nil {
		return nil
	}
	d := <-p.inflight
	p.inflight = nil
	clear(p.spare) // drop the planned works' references
	if d.err != nil {
		return asStoreErr(fmt.Errorf("plan: %w", d.err))
	}
	p.counts.Created += d.res.Created
	p.counts.Existing += d.res.Existing
	return nil
}

func (p *planner) full() bool { return p.max > 0 && p.counts.Read >= p.max }

func (p *planner) flush(ctx context.Context) error {
	if err := p.wait(); err != nil {
		return err
	}
	if len(p.batch) == 0 {
		return nil
	}
	res, err := p.store.Plan(ctx, p.batch)
	if err != nil {
		return asStoreErr(fmt.Errorf("plan: %w", err))
	}
	p.counts.Created += res.Created
	p.counts.Existing += res.Existing
	p.batch, p.bytes = p.batch[:0], 0
	return nil
}

// bad reports a line that is not a work: never fatal, never silent.
func (p *planner) bad(where string, err error) {
	p.counts.Bad++
	fmt.Fprintf(p.report, "oafetch: %s: skipped: %v\n", where, err)
}

// planArgs plans identifiers given on the command line.
func (p *planner) planArgs(ctx context.Context, args []string) error {
	for i, arg := range args {
		w, err := fulltext.ParseWork(arg)
		if errors.Is(err, fulltext.ErrSkipLine) {
			continue
		}
		if err != nil {
			p.bad(fmt.Sprintf("argument %d", i+1), err)
			continue
		}
		if err := p.add(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// planFile plans one --input file ("-" is stdin), one work per line.
func (p *planner) planFile(ctx context.Context, name string, stdin io.Reader) error {
	var r io.Reader
	if name == "-" {
		r, name = stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return usagef("--input %s: %w", name, err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	// OpenAlex work objects can be long; allow 16 MiB lines.
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if p.full() {
			break
		}
		w, err := fulltext.ParseWork(sc.Text())
		if errors.Is(err, fulltext.ErrSkipLine) {
			continue
		}
		if err != nil {
			p.bad(fmt.Sprintf("%s:%d", name, line), err)
			continue
		}
		if err := p.add(ctx, w); err != nil {
			return err
		}
		if line%planBatch == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := sc.Err(); err != nil {
		return usagef("--input %s: line %d: %w", name, line+1, err)
	}
	return nil
}
