package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/telemetry"
)

// runTelemetry is the telemetry of one fetching command: the event log,
// the metrics and, with --metrics-addr, the /metrics server.
type runTelemetry struct {
	metrics  *telemetry.Metrics
	recorder *telemetry.Recorder
	sink     *telemetry.Sink
	srv      *http.Server
	served   chan struct{}
	log      *slog.Logger
}

// eventsPath is --events, or <out>/.oafetch/events.jsonl; "" (no event
// log) when --out is not a local directory and --events is not given.
func eventsPath(sf *storeFlags, flag string) string {
	if flag != "" {
		return flag
	}
	if strings.Contains(sf.out, "://") {
		return ""
	}
	return filepath.Join(sf.out, ".oafetch", "events.jsonl")
}

// startTelemetry opens the event log, builds the metrics over store and
// serves them on metricsAddr when set. close must be called at the end of
// the command: it flushes the event log and stops the server.
func (a *app) startTelemetry(sf *storeFlags, rf *runFlags, store fulltext.JobStore, log *slog.Logger) (*runTelemetry, error) {
	t := &runTelemetry{log: log}
	if path := eventsPath(sf, rf.events); path != "" {
		sink, err := telemetry.OpenSink(telemetry.SinkConfig{Path: path})
		if err != nil {
			return nil, asStoreErr(err)
		}
		t.sink = sink
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t.metrics = telemetry.NewMetrics(reg)
	reg.MustRegister(telemetry.NewStoreCollector(store))
	t.recorder = telemetry.NewRecorder(t.sink, t.metrics, nil)
	if rf.metricsAddr == "" {
		return t, nil
	}
	ln, err := net.Listen("tcp", rf.metricsAddr)
	if err != nil {
		_ = t.close()
		return nil, usagef("--metrics-addr %s: %w", rf.metricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", t.metrics.Handler())
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	t.served = make(chan struct{})
	go func() {
		defer close(t.served)
		if err := t.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	url := fmt.Sprintf("http://%s/metrics", ln.Addr())
	log.Info("serving metrics", "url", url)
	if a.opts.metricsServing != nil {
		a.opts.metricsServing(url)
	}
	return t, nil
}

// close stops the metrics server and flushes the event log.
func (t *runTelemetry) close() error {
	if t.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = t.srv.Shutdown(ctx)
		<-t.served
		t.srv = nil
	}
	if t.sink != nil {
		err := t.sink.Close()
		if n := t.sink.Dropped(); n > 0 {
			t.log.Warn("event log: events dropped (queue full)", "dropped", n)
		}
		t.sink = nil
		if err != nil {
			return asStoreErr(err)
		}
	}
	return nil
}

// recordingPlanSink tells the recorder what each Plan batch did.
type recordingPlanSink struct {
	next planSink
	rec  *telemetry.Recorder
}

func (s recordingPlanSink) Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	res, err := s.next.Plan(ctx, works)
	if err == nil {
		s.rec.Planned(works, res)
	}
	return res, err
}

// observers sends the pool's observations to the recorder (events and
// metrics) and to the progress display.
type observers struct {
	*telemetry.Recorder
	prog *progress
}

func (o observers) JobFinished(j fulltext.Job, f fulltext.Finish, attempts []fulltext.Attempt) {
	o.Recorder.JobFinished(j, f, attempts)
	o.prog.JobFinished(j, f, attempts)
}
