package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// orderSink records the works it is given; fail makes its nth call fail.
type orderSink struct {
	mu    sync.Mutex
	seen  map[string]bool
	order []string
	calls int
	fail  int
}

func (s *orderSink) Plan(_ context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == s.fail {
		return fulltext.PlanResult{}, errors.New("disk full")
	}
	var res fulltext.PlanResult
	for _, w := range works {
		id := w.ID.String()
		if s.seen[id] {
			res.Existing++
			continue
		}
		s.seen[id] = true
		s.order = append(s.order, id)
		res.Created++
	}
	return res, nil
}

// TestPlannerAsync: with batches planned in the background while the next
// is parsed, every work arrives once and in input order, the counts add
// up, and a failed batch fails the planning.
func TestPlannerAsync(t *testing.T) {
	t.Parallel()
	n := planBatch*2 + planBatch/2
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "pmid:%d\n", i%(n-1000)+1) // the last 1,000 lines repeat the first
		if i == planBatch+3 {
			b.WriteString("not an id\n")
		}
	}
	in := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fail int
	}{{"ok", 0}, {"first batch fails", 1}, {"last batch fails", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := &orderSink{seen: map[string]bool{}, fail: tc.fail}
			p := &planner{store: sink, report: io.Discard, async: true}
			err := p.planFile(t.Context(), in, nil)
			err = errors.Join(err, p.flush(t.Context()))
			if tc.fail > 0 {
				if err == nil || !strings.Contains(err.Error(), "disk full") {
					t.Fatalf("planning with a failing batch: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := planCounts{Read: n, Created: n - 1000, Existing: 1000, Bad: 1}
			if p.counts != want {
				t.Errorf("counts %+v, want %+v", p.counts, want)
			}
			for i, id := range sink.order {
				if id != fmt.Sprintf("pmid:%d", i+1) {
					t.Fatalf("work %d planned as %s: not in input order", i, id)
				}
			}
		})
	}
}
