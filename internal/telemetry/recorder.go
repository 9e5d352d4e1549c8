package telemetry

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/worker"
)

// Recorder turns the worker's observations into events and metrics. It
// implements worker.LifecycleObserver; every method returns at once (events
// are queued on the Sink, metrics are atomic). A Recorder is safe for
// concurrent use.
type Recorder struct {
	sink  *Sink // nil: no event log
	m     *Metrics
	clock fulltext.Clock

	mu      sync.Mutex
	claimed map[fulltext.Lease]time.Time // (job, epoch) → claim time; Until zeroed
}

var _ worker.LifecycleObserver = (*Recorder)(nil)

// NewRecorder returns a Recorder writing to sink (nil for none) and m
// (required). clock defaults to the system clock. When sink is set its
// drop count is exported as oafetch_events_dropped_total.
func NewRecorder(sink *Sink, m *Metrics, clock fulltext.Clock) *Recorder {
	if clock == nil {
		clock = fulltext.SystemClock{}
	}
	if sink != nil {
		m.register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "oafetch_events_dropped_total", Help: "Events not written to the event log because its queue was full.",
		}, func() float64 { return float64(sink.Dropped()) }))
	}
	return &Recorder{sink: sink, m: m, clock: clock, claimed: map[fulltext.Lease]time.Time{}}
}

// Metrics returns the recorder's metrics.
func (r *Recorder) Metrics() *Metrics { return r.m }

func (r *Recorder) emit(e Event) {
	if r.sink == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = r.clock.Now().UTC()
	}
	r.sink.Emit(e)
}

func leaseKey(l fulltext.Lease) fulltext.Lease { return fulltext.Lease{JobID: l.JobID, Epoch: l.Epoch} }

func jobEvent(t EventType, j fulltext.Job) Event {
	return Event{Type: t, JobID: j.ID, WorkID: j.Work.ID.String(), Epoch: j.Epoch}
}

// Planned records works given to plan and what the store made of them
// (the store counts per batch, so per-work events do not say which were new).
func (r *Recorder) Planned(works []fulltext.Work, res fulltext.PlanResult) {
	r.m.jobsPlanned.WithLabelValues("created").Add(float64(res.Created))
	r.m.jobsPlanned.WithLabelValues("existing").Add(float64(res.Existing))
	for _, w := range works {
		r.emit(Event{Type: EventJobPlanned, WorkID: w.ID.String(), Key: w.Key()})
	}
}

// Recovered records the crash reconciler's actions.
func (r *Recorder) Recovered(recs []fulltext.Recovery) {
	r.m.Recovered(recs)
	for _, rec := range recs {
		r.emit(Event{Type: EventCrashRecovery, JobID: rec.JobID, WorkID: rec.WorkID, Action: rec.Action, Detail: rec.Detail})
	}
}

// JobLeased implements worker.LifecycleObserver.
func (r *Recorder) JobLeased(j fulltext.Job, claim time.Duration) {
	now := r.clock.Now()
	r.m.leaseAcquire.Observe(claim.Seconds())
	r.mu.Lock()
	r.claimed[leaseKey(j.Lease())] = now
	r.mu.Unlock()
	e := jobEvent(EventJobLeased, j)
	until := j.LeaseUntil.UTC()
	e.Owner, e.LeaseUntil, e.ClaimMS, e.Claims, e.To = j.Owner, &until, ms(claim), j.Attempts, j.State
	r.emit(e)
}

// JobStep implements worker.LifecycleObserver.
func (r *Recorder) JobStep(j fulltext.Job, s fulltext.Step, from fulltext.JobState) {
	t := EventOperationCompleted
	if s.Status == fulltext.OpStarted {
		t = EventOperationStarted
	}
	e := jobEvent(t, j)
	e.Op, e.Status, e.Detail = s.Op, s.Status, s.Detail
	r.emit(e)
	if s.To != "" && s.To != from {
		c := jobEvent(EventJobStateChanged, j)
		c.From, c.To = from, s.To
		r.emit(c)
	}
}

// JobReplayed implements worker.LifecycleObserver.
func (r *Recorder) JobReplayed(j fulltext.Job, ops []fulltext.Op) {
	r.m.replays.Inc()
	e := jobEvent(EventIdempotencyReplay, j)
	e.Ops = ops
	r.emit(e)
}

// LeaseRenewed implements worker.LifecycleObserver.
func (r *Recorder) LeaseRenewed(l fulltext.Lease, err error) {
	result := "ok"
	switch {
	case err == nil:
	case isLeaseLost(err):
		result = "lost"
		r.mu.Lock()
		delete(r.claimed, leaseKey(l)) // the job will not finish here
		r.mu.Unlock()
	default:
		result = "error"
	}
	r.m.leaseRenewals.WithLabelValues(result).Inc()
	e := Event{Type: EventLeaseRenewed, JobID: l.JobID, Epoch: l.Epoch, Owner: l.Owner, Result: result}
	if err == nil {
		until := l.Until.UTC()
		e.LeaseUntil = &until
	} else {
		e.Detail = err.Error()
	}
	r.emit(e)
}

// LeaseReleased implements worker.LifecycleObserver.
func (r *Recorder) LeaseReleased(l fulltext.Lease) {
	r.m.leaseReleases.Inc()
	r.mu.Lock()
	delete(r.claimed, leaseKey(l))
	r.mu.Unlock()
	r.emit(Event{Type: EventLeaseReleased, JobID: l.JobID, Epoch: l.Epoch, Owner: l.Owner})
}

// JobFinished implements worker.Observer: one attempt event per attempt,
// the final state change, and the job metrics.
func (r *Recorder) JobFinished(j fulltext.Job, f fulltext.Finish, attempts []fulltext.Attempt) {
	now := r.clock.Now()
	// A landing-page link is an attempt whose parent fetched a page (a
	// source's candidates have the source's lookup as parent).
	pages := map[int]bool{}
	for _, a := range attempts {
		if a.Technique != "lookup" {
			pages[a.Seq] = true
		}
	}
	for _, a := range attempts {
		host := a.Host
		if host == "" {
			host = "none"
		}
		r.m.attempts.WithLabelValues(a.Source, host, string(a.Code.Outcome())).Inc()
		if pages[a.Parent] {
			// A link found on a landing page: per-technique yield. The
			// outcome class of a won link is ok.
			r.m.landingLinks.WithLabelValues(r.m.techniqueLabel(a.Technique), host, string(a.Code.Outcome())).Inc()
		}
		r.m.attemptDuration.WithLabelValues(a.Source, host).Observe(a.Duration.Seconds())
		if a.Bytes > 0 {
			r.m.bytes.WithLabelValues(a.Source).Add(float64(a.Bytes))
		}
		r.emit(attemptEvent(j, a))
	}
	r.mu.Lock()
	started, ok := r.claimed[leaseKey(j.Lease())]
	delete(r.claimed, leaseKey(j.Lease()))
	r.mu.Unlock()
	if ok {
		r.m.jobDuration.Observe(now.Sub(started).Seconds())
	}
	if f.State.Terminal() {
		r.m.jobOutcomes.WithLabelValues(string(f.Outcome), string(f.Code), decidingSource(f, attempts)).Inc()
		if !j.CreatedAt.IsZero() {
			r.m.timeToTerminal.Observe(now.Sub(j.CreatedAt).Seconds())
		}
	} else {
		r.m.jobRetries.WithLabelValues(string(f.Code)).Inc()
	}
	e := jobEvent(EventJobStateChanged, j)
	e.From, e.To, e.Outcome, e.Code, e.Detail = j.State, f.State, f.Outcome, f.Code, f.Detail
	if f.Result != nil {
		e.Source, e.URL, e.Bytes, e.Kind = f.Result.Source, f.Result.URL, f.Result.Bytes, f.Result.Kind
	}
	r.emit(e)
}

// decidingSource is the source of the result, or of the last attempt that
// carries the job's code, or "none".
func decidingSource(f fulltext.Finish, attempts []fulltext.Attempt) string {
	if f.Result != nil && f.Result.Source != "" {
		return f.Result.Source
	}
	for i := len(attempts) - 1; i >= 0; i-- {
		if attempts[i].Code == f.Code && attempts[i].Source != "" {
			return attempts[i].Source
		}
	}
	return "none"
}

func isLeaseLost(err error) bool { return errors.Is(err, fulltext.ErrLeaseLost) }
