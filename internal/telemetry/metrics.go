package telemetry

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/landing"
)

// Metrics holds every oafetch metric, registered on the registry given to
// NewMetrics. Label values are bounded: source names, host names, states,
// outcome codes, statuses — never URLs or work ids. Metrics is safe for
// concurrent use; it implements hostpolicy.Observer.
type Metrics struct {
	reg *prometheus.Registry

	jobsPlanned     *prometheus.CounterVec
	jobOutcomes     *prometheus.CounterVec
	jobRetries      *prometheus.CounterVec
	jobDuration     prometheus.Histogram
	timeToTerminal  prometheus.Histogram
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	bytes           *prometheus.CounterVec
	inFlight        *prometheus.GaugeVec
	httpRequests    *prometheus.CounterVec
	pacingWait      *prometheus.HistogramVec
	httpRetries     *prometheus.CounterVec
	breakerState    *prometheus.GaugeVec
	breakerChanges  *prometheus.CounterVec
	leaseAcquire    prometheus.Histogram
	leaseRenewals   *prometheus.CounterVec
	leaseReleases   prometheus.Counter
	replays         prometheus.Counter
	reconciler      *prometheus.CounterVec
	landingLinks    *prometheus.CounterVec
	credits         creditMetrics

	// techniques is the bounded set of landing_links technique labels.
	techniques map[string]bool

	// all is every collector registered by this package (for the deploy
	// file checks).
	all []prometheus.Collector

	mu     sync.Mutex
	active map[string]int // host → requests in flight
}

// latencyBuckets span a fast loopback answer to a slow archive.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// jobBuckets span a job of one request to one that waited for retries.
var jobBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600}

// claimBuckets are for the lease acquisition SLO (100 ms).
var claimBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		jobsPlanned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_jobs_planned_total", Help: "Works given to plan, by result: created (a new job) or existing (idempotent re-plan).",
		}, []string{"result"}),
		jobOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_job_outcomes_total", Help: "Jobs that reached a terminal state, by outcome, code and the source of the deciding attempt (none when no attempt decided).",
		}, []string{"outcome", "code", "source"}),
		jobRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_job_retries_total", Help: "Claims that ended back in PLANNED for a later retry, by code.",
		}, []string{"code"}),
		jobDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "oafetch_job_duration_seconds", Help: "Time from claim to finish of one claim of a job.", Buckets: jobBuckets,
		}),
		timeToTerminal: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "oafetch_job_time_to_terminal_seconds", Help: "Time from planning to the terminal state of a job.", Buckets: jobBuckets,
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_attempts_total", Help: "Candidates tried and sources asked, by source, host and outcome.",
		}, []string{"source", "host", "outcome"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "oafetch_attempt_duration_seconds", Help: "Duration of one attempt, by source and host.", Buckets: latencyBuckets,
		}, []string{"source", "host"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_downloaded_bytes_total", Help: "Body bytes received by attempts, by source.",
		}, []string{"source"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_http_in_flight_requests", Help: "HTTP requests on the wire, by host.",
		}, []string{"host"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_http_requests_total", Help: "HTTP requests sent (retries included), by host and status class (2xx … 5xx, error).",
		}, []string{"host", "class"}),
		pacingWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "oafetch_pacing_wait_seconds", Help: "Delays imposed by per-host pacing and Retry-After, by host.", Buckets: latencyBuckets,
		}, []string{"host"}),
		httpRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_http_retries_total", Help: "Requests retried by the host policy, by host and the status that caused it (0: transport error).",
		}, []string{"host", "status"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "oafetch_breaker_state", Help: "1 for the current circuit breaker state of a host (closed, open, half-open), 0 for the others.",
		}, []string{"host", "state"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_breaker_transitions_total", Help: "Circuit breaker state changes, by host and new state.",
		}, []string{"host", "state"}),
		leaseAcquire: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "oafetch_lease_acquire_seconds", Help: "Duration of the job store Claim call that leased a job.", Buckets: claimBuckets,
		}),
		leaseRenewals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_lease_renewals_total", Help: "Lease renewals, by result: ok, lost (fenced out) or error.",
		}, []string{"result"}),
		leaseReleases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "oafetch_lease_releases_total", Help: "Jobs given back untouched at a graceful stop.",
		}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "oafetch_idempotency_replays_total", Help: "Claims that replay operations a crashed holder left unfinished.",
		}),
		reconciler: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_reconciler_actions_total", Help: "Crash reconciler actions, by action.",
		}, []string{"action"}),
		landingLinks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oafetch_landing_links_total", Help: "Links found on landing pages and tried, by the technique that found them (other: not a known technique), host and result: ok (the link won) or the outcome class of its attempt.",
		}, []string{"technique", "host", "result"}),
		active:     map[string]int{},
		techniques: landingTechniques(),
	}
	m.register(m.jobsPlanned, m.jobOutcomes, m.jobRetries, m.jobDuration, m.timeToTerminal,
		m.attempts, m.attemptDuration, m.bytes, m.inFlight, m.httpRequests, m.pacingWait, m.httpRetries,
		m.breakerState, m.breakerChanges, m.leaseAcquire, m.leaseRenewals, m.leaseReleases, m.replays,
		m.reconciler, m.landingLinks)
	m.credits = newCreditMetrics()
	m.register(m.credits.collectors()...)
	return m
}

// landingTechniques are the technique labels of oafetch_landing_links_total:
// the landing extractor's rules and the cascade's "refresh" hop.
func landingTechniques() map[string]bool {
	set := map[string]bool{"refresh": true}
	for _, t := range landing.Techniques() {
		set[t] = true
	}
	return set
}

// techniqueLabel bounds a technique name to the known set.
func (m *Metrics) techniqueLabel(t string) string {
	if m.techniques[t] {
		return t
	}
	return "other"
}

func (m *Metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.all = append(m.all, cs...)
}

// Registry is the registry the metrics live on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

var _ hostpolicy.Observer = (*Metrics)(nil)

// Wait implements hostpolicy.Observer.
func (m *Metrics) Wait(host string, d time.Duration) {
	m.pacingWait.WithLabelValues(host).Observe(d.Seconds())
}

// Retry implements hostpolicy.Observer.
func (m *Metrics) Retry(host string, status int) {
	m.httpRetries.WithLabelValues(host, strconv.Itoa(status)).Inc()
}

// Breaker implements hostpolicy.Observer.
func (m *Metrics) Breaker(host string, state hostpolicy.BreakerState) {
	for _, s := range []hostpolicy.BreakerState{hostpolicy.BreakerClosed, hostpolicy.BreakerOpen, hostpolicy.BreakerHalfOpen} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.breakerState.WithLabelValues(host, string(s)).Set(v)
	}
	m.breakerChanges.WithLabelValues(host, string(state)).Inc()
}

// Transport wraps next to count requests and requests in flight per host.
// It sits under the host policy, so it sees what goes on the wire.
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		host := req.URL.Host
		m.inFlightAdd(host, 1)
		resp, err := next.RoundTrip(req)
		m.inFlightAdd(host, -1)
		class := "error"
		if err == nil {
			class = strconv.Itoa(resp.StatusCode/100) + "xx"
		}
		m.httpRequests.WithLabelValues(host, class).Inc()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (m *Metrics) inFlightAdd(host string, d int) {
	m.mu.Lock()
	m.active[host] += d
	n := m.active[host]
	if n <= 0 {
		delete(m.active, host)
	}
	m.mu.Unlock()
	m.inFlight.WithLabelValues(host).Set(float64(n))
}

// HostLoad is one host with requests in flight.
type HostLoad struct {
	Host     string
	InFlight int
}

// ActiveHosts returns the hosts with requests in flight, busiest first.
func (m *Metrics) ActiveHosts() []HostLoad {
	m.mu.Lock()
	out := make([]HostLoad, 0, len(m.active))
	for h, n := range m.active {
		out = append(out, HostLoad{h, n})
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].InFlight != out[j].InFlight {
			return out[i].InFlight > out[j].InFlight
		}
		return out[i].Host < out[j].Host
	})
	return out
}

// Recovered counts the reconciler's actions.
func (m *Metrics) Recovered(recs []fulltext.Recovery) {
	for _, r := range recs {
		m.reconciler.WithLabelValues(r.Action).Inc()
	}
}

// StoreCollector exports the job store's counts at scrape time:
// oafetch_jobs{state} and oafetch_live_leases. Register it with
// Registry().MustRegister.
type StoreCollector struct {
	store   fulltext.JobStore
	timeout time.Duration
	jobs    *prometheus.Desc
	leases  *prometheus.Desc
	up      *prometheus.Desc
}

// NewStoreCollector returns a collector over store; each scrape runs one
// Stats query bounded by 5 s.
func NewStoreCollector(store fulltext.JobStore) *StoreCollector {
	return &StoreCollector{
		store: store, timeout: 5 * time.Second,
		jobs:   prometheus.NewDesc("oafetch_jobs", "Jobs in the job store, by state.", []string{"state"}, nil),
		leases: prometheus.NewDesc("oafetch_live_leases", "Jobs held under an unexpired lease.", nil, nil),
		up:     prometheus.NewDesc("oafetch_job_store_up", "1 when the last scrape could read the job store.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *StoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.leases
	ch <- c.up
}

// Collect implements prometheus.Collector.
func (c *StoreCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, s := range fulltext.AllStates {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(st.ByState[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(c.leases, prometheus.GaugeValue, float64(st.LiveLeases))
}
