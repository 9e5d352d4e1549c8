// Package telemetry is what an operator sees of a run: the JSONL event log
// (Sink, Recorder), the Prometheus metrics (Metrics, on a registry the
// caller passes in — never the global one) and the SLO report (Report),
// computed from the job store and the event log, never from constants.
//
// Nothing here may slow a download: events go through a bounded channel
// and are dropped (and counted) when it is full; metrics are atomic
// counters. docs/operations.md is the reference of every event, field and
// metric.
package telemetry
