package fulltext

import (
	"fmt"
	"time"
)

// JobState is a state of the job state machine (DESIGN.md §3).
type JobState string

// The job states. FINALIZED, INDEXED, DEDUPED, FAILED and SKIPPED_DUPLICATE
// are terminal.
const (
	StatePlanned          JobState = "PLANNED"
	StateLeased           JobState = "LEASED"
	StateHeadDone         JobState = "HEAD_DONE"
	StateResumeOK         JobState = "RESUME_OK"
	StateStreaming        JobState = "STREAMING"
	StateFinalized        JobState = "FINALIZED"
	StateIndexed          JobState = "INDEXED"
	StateDeduped          JobState = "DEDUPED"
	StateFailed           JobState = "FAILED"
	StateSkippedDuplicate JobState = "SKIPPED_DUPLICATE"
)

// AllStates lists every state in walk order.
var AllStates = []JobState{
	StatePlanned, StateLeased, StateHeadDone, StateResumeOK, StateStreaming,
	StateFinalized, StateIndexed, StateDeduped, StateFailed, StateSkippedDuplicate,
}

// transitions is the one table of legal state changes. A job returns to
// PLANNED when its attempt is retryable or its lease is reclaimed.
var transitions = map[JobState][]JobState{
	StatePlanned:   {StateLeased},
	StateLeased:    {StateHeadDone, StateStreaming, StatePlanned, StateFinalized, StateDeduped, StateFailed, StateSkippedDuplicate},
	StateHeadDone:  {StateResumeOK, StateStreaming, StatePlanned, StateFailed},
	StateResumeOK:  {StateStreaming, StatePlanned, StateFailed},
	StateStreaming: {StateFinalized, StateDeduped, StatePlanned, StateFailed, StateHeadDone},
	StateFinalized: {StateIndexed, StateDeduped, StatePlanned},
	StateIndexed:   {StatePlanned},
	StateDeduped:   {StatePlanned},
	StateFailed:    {StatePlanned},
	// A duplicate is re-planned only by an explicit retry.
	StateSkippedDuplicate: {StatePlanned},
}

// CanTransition reports whether the state machine allows from → to.
// Terminal states allow only a return to PLANNED (retry, or an artifact the
// reconciler found missing).
func CanTransition(from, to JobState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Terminal reports whether s ends a job.
func (s JobState) Terminal() bool {
	switch s {
	case StateFinalized, StateIndexed, StateDeduped, StateFailed, StateSkippedDuplicate:
		return true
	}
	return false
}

// Leased reports whether s is held under a lease (LEASED through STREAMING).
func (s JobState) Leased() bool {
	switch s {
	case StateLeased, StateHeadDone, StateResumeOK, StateStreaming:
		return true
	}
	return false
}

// Valid reports whether s is a known state.
func (s JobState) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Op names a side effect recorded in the operation ledger.
type Op string

// The ledger operations.
const (
	OpHead     Op = "HEAD"
	OpStream   Op = "STREAM"
	OpFinalize Op = "FINALIZE"
	OpIndex    Op = "INDEX"
	OpDedupe   Op = "DEDUPE"
)

// Job is one work in the job store.
type Job struct {
	ID    int64
	Key   string
	Work  Work
	State JobState
	// Epoch is the fencing token: it increases on every claim, and every
	// write by a worker is conditional on it.
	Epoch      int64
	Owner      string
	LeaseUntil time.Time
	Attempts   int
	NotBefore  time.Time
	Outcome    Outcome
	Code       Code
	Detail     string
	Result     *Result
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Lease returns the fencing handle a worker uses for its writes.
func (j Job) Lease() Lease {
	return Lease{JobID: j.ID, Epoch: j.Epoch, Owner: j.Owner, Until: j.LeaseUntil}
}

// Lease identifies one claim of one job. Every write a worker makes carries
// it; the store rejects writes whose epoch is no longer current with
// ErrLeaseLost.
type Lease struct {
	JobID int64
	Epoch int64
	Owner string
	Until time.Time
}

func (l Lease) String() string { return fmt.Sprintf("job %d epoch %d", l.JobID, l.Epoch) }

// Result is what a finished job produced.
type Result struct {
	Kind    Kind   `json:"kind"`
	Source  string `json:"source"`
	URL     string `json:"url"`
	SHA256  string `json:"sha256"`
	Bytes   int64  `json:"bytes"`
	Path    string `json:"path"`
	ETag    string `json:"etag,omitempty"`
	LastMod string `json:"last_modified,omitempty"`
}

// Kind is the kind of full text.
type Kind string

// The full-text kinds.
const (
	KindPDF  Kind = "pdf"
	KindXML  Kind = "xml"
	KindHTML Kind = "html"
)

// Finish is the end of one attempt at a job, written with its lease.
type Finish struct {
	// State is the next state: FINALIZED, DEDUPED, FAILED,
	// SKIPPED_DUPLICATE, or PLANNED for a retry after NotBefore.
	State     JobState
	Outcome   Outcome
	Code      Code
	Detail    string
	Result    *Result
	NotBefore time.Time
	// Attempts are the attempts of this claim, recorded (stamped with the
	// lease's job id and epoch) in the same transaction as the finish: a
	// Finish that fails, e.g. with ErrLeaseLost, records none of them.
	Attempts []Attempt
}
