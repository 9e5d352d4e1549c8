package telemetry

import (
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// EventType names one kind of event (docs/operations.md lists the fields
// each carries).
type EventType string

// The events.
const (
	EventJobPlanned         EventType = "job_planned"
	EventJobLeased          EventType = "job_leased"
	EventJobStateChanged    EventType = "job_state_changed"
	EventLeaseRenewed       EventType = "lease_renewed"
	EventLeaseReleased      EventType = "lease_released"
	EventOperationStarted   EventType = "operation_started"
	EventOperationCompleted EventType = "operation_completed"
	EventCrashRecovery      EventType = "crash_recovery"
	EventIdempotencyReplay  EventType = "idempotency_replay"
	EventAttempt            EventType = "attempt"
)

// EventTypes lists every event type.
var EventTypes = []EventType{
	EventJobPlanned, EventJobLeased, EventJobStateChanged, EventLeaseRenewed, EventLeaseReleased,
	EventOperationStarted, EventOperationCompleted, EventCrashRecovery, EventIdempotencyReplay, EventAttempt,
}

// Event is one line of the event log. Fields that do not apply to a type
// are omitted from its JSON.
type Event struct {
	Time time.Time `json:"time"`
	Type EventType `json:"type"`

	JobID  int64  `json:"job_id,omitempty"`
	WorkID string `json:"work_id,omitempty"`
	Key    string `json:"key,omitempty"`
	Epoch  int64  `json:"epoch,omitempty"`
	Owner  string `json:"owner,omitempty"`
	// LeaseUntil is the lease expiry (job_leased, lease_renewed).
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	// ClaimMS is how long the Claim call took (job_leased): the lease
	// acquisition latency of the SLO report.
	ClaimMS *float64 `json:"claim_ms,omitempty"`
	// Claims is the job's claim count, this one included (job_leased).
	Claims int `json:"claims,omitempty"`

	// From and To are the states of job_state_changed.
	From fulltext.JobState `json:"from,omitempty"`
	To   fulltext.JobState `json:"to,omitempty"`

	// Op and Status are the ledger row of operation_* events.
	Op     fulltext.Op       `json:"op,omitempty"`
	Status fulltext.OpStatus `json:"status,omitempty"`
	// Ops are the interrupted operations of idempotency_replay.
	Ops []fulltext.Op `json:"ops,omitempty"`

	// Action is the reconciler's action (crash_recovery).
	Action string `json:"action,omitempty"`
	// Result is "ok", "lost" or "error" (lease_renewed).
	Result string `json:"result,omitempty"`

	Outcome fulltext.Outcome `json:"outcome,omitempty"`
	Code    fulltext.Code    `json:"code,omitempty"`
	Detail  string           `json:"detail,omitempty"`

	// Attempt fields (attempt).
	Seq        int           `json:"seq,omitempty"`
	Parent     int           `json:"parent,omitempty"`
	Source     string        `json:"source,omitempty"`
	Host       string        `json:"host,omitempty"`
	URL        string        `json:"url,omitempty"`
	Technique  string        `json:"technique,omitempty"`
	Kind       fulltext.Kind `json:"kind,omitempty"`
	HTTPStatus int           `json:"http_status,omitempty"`
	Bytes      int64         `json:"bytes,omitempty"`
	DurationMS *float64      `json:"duration_ms,omitempty"`
	Hops       []string      `json:"hops,omitempty"`
}

func ms(d time.Duration) *float64 {
	v := float64(d.Microseconds()) / 1000
	return &v
}

func attemptEvent(j fulltext.Job, a fulltext.Attempt) Event {
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	return Event{
		Time: at.UTC(), Type: EventAttempt, JobID: j.ID, WorkID: j.Work.ID.String(), Epoch: j.Epoch,
		Seq: a.Seq, Parent: a.Parent, Source: a.Source, Host: a.Host, URL: a.URL, Technique: a.Technique,
		Kind: a.Kind, HTTPStatus: a.HTTPStatus, Bytes: a.Bytes, DurationMS: ms(a.Duration),
		Code: a.Code, Outcome: a.Code.Outcome(), Detail: a.Detail, Hops: a.Hops,
	}
}
