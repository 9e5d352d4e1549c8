package telemetry

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// BenchmarkRecorderJobFinished is the cost a worker pays per finished
// claim with ten attempts: metrics plus eleven queued events.
func BenchmarkRecorderJobFinished(b *testing.B) {
	sink, err := OpenSink(SinkConfig{Path: filepath.Join(b.TempDir(), "e.jsonl"), Buffer: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	r := NewRecorder(sink, NewMetrics(newRegistry()), nil)
	w, _ := fulltext.ParseWork("10.5555/bench")
	j := fulltext.Job{ID: 1, Work: w, State: fulltext.StateStreaming, Epoch: 1, CreatedAt: time.Now()}
	atts := make([]fulltext.Attempt, 10)
	for i := range atts {
		atts[i] = fulltext.Attempt{Seq: i + 1, Source: "unpaywall", Host: "api.unpaywall.org", URL: "https://api.unpaywall.org/v2/10.5555/bench", Code: fulltext.CodeNoOALocation, Duration: time.Millisecond}
	}
	f := fulltext.Finish{State: fulltext.StateFailed, Outcome: fulltext.OutcomeAbsent, Code: fulltext.CodeNoOALocation}
	b.ReportAllocs()
	for b.Loop() {
		r.JobFinished(j, f, atts)
	}
	b.StopTimer()
	if err := sink.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(sink.Dropped()), "dropped")
}
