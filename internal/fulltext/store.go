package fulltext

import (
	"context"
	"fmt"
	"io"
	"time"
)

// JobStore is the durable job ledger shared by every worker. Implementations
// (internal/sqlite, internal/postgres) are safe for concurrent use by
// multiple goroutines and by multiple processes on the same database, and
// pass fulltexttest.RunJobStoreTests.
//
// Writes by a worker take the Lease it was given at Claim; a write whose
// (job id, epoch) is not the job's current lease changes nothing and returns
// ErrLeaseLost.
type JobStore interface {
	// Plan inserts one PLANNED job per work whose idempotency key (Work.Key)
	// is new and counts the others as existing. Idempotent, also when several
	// processes plan the same works at once.
	Plan(ctx context.Context, works []Work) (PlanResult, error)

	// Claim leases up to n claimable jobs to owner until now+ttl. Claimable:
	// PLANNED with not_before passed, or any leased state (LEASED …
	// STREAMING) whose lease expired. Every claim increments the job's epoch
	// and its attempt counter. Jobs come back oldest first.
	Claim(ctx context.Context, owner string, n int, ttl time.Duration) ([]Job, error)

	// Renew extends the lease to now+ttl and returns the new expiry.
	Renew(ctx context.Context, l Lease, ttl time.Duration) (time.Time, error)

	// Step writes one ledger row for the job and, when s.To is set, moves the
	// job to s.To, in one transaction. ErrBadTransition for a move the state
	// machine forbids.
	Step(ctx context.Context, l Lease, s Step) error

	// Finish ends the attempt with f. When f.State is FINALIZED or DEDUPED a
	// completed FINALIZE ledger row is written in the same transaction; a job
	// never has two. PLANNED (a retry) keeps the attempt count and sets
	// not_before.
	Finish(ctx context.Context, l Lease, f Finish) error

	// Release returns a leased job to PLANNED without counting the attempt
	// (graceful stop).
	Release(ctx context.Context, l Lease) error

	// AddAttempts records the attempt tree of one claim.
	AddAttempts(ctx context.Context, l Lease, attempts []Attempt) error

	// Reconcile makes every job whose lease expired claimable again (bumping
	// its epoch so the old holder is fenced out) and fails those that used up
	// their attempts. Idempotent and safe to run in several processes at once.
	Reconcile(ctx context.Context) ([]Recovery, error)

	// LeaseLive reports whether l is the job's current, unexpired lease.
	LeaseLive(ctx context.Context, l Lease) (bool, error)

	// Requeue returns a terminal job to PLANNED (reason is recorded), bumping
	// its epoch. Used by the reconciler for missing artifacts and by retry.
	Requeue(ctx context.Context, jobID int64, reason string) error

	// Retry re-plans finished jobs matching f and returns how many.
	Retry(ctx context.Context, f RetryFilter) (int, error)

	// Get returns the job of one work id. ErrNotFound when unknown.
	Get(ctx context.Context, id WorkID) (Job, error)
	// Each calls fn for every job in id order; fn's error stops the walk.
	Each(ctx context.Context, fn func(Job) error) error
	// Attempts returns the recorded attempts of a job, oldest first.
	Attempts(ctx context.Context, jobID int64) ([]Attempt, error)
	// Ledger returns the ledger rows of a job, oldest first.
	Ledger(ctx context.Context, jobID int64) ([]LedgerEntry, error)
	// Stats counts jobs by state and code, live leases and per-source yield.
	Stats(ctx context.Context) (Stats, error)
	// Pending reports whether some job is not terminal: PLANNED (due or
	// waiting for its retry time) or held under a lease, live or expired.
	// It is what a drained pool asks before it stops — the answer Stats
	// would give, without counting the whole store.
	Pending(ctx context.Context) (bool, error)

	// GetMeta and SetMeta keep small named values (a query's saved cursor).
	GetMeta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
	// ListMeta returns every meta key beginning with prefix and its value
	// (operator host pauses "host-pause:<host>", worker host state
	// "host-state:<host>"). The prefix is matched literally: '%' and '_'
	// are not wildcards. An empty map when nothing matches.
	ListMeta(ctx context.Context, prefix string) (map[string]string, error)

	Close() error
}

// PlanResult counts what Plan did.
type PlanResult struct {
	Created  int
	Existing int
}

// Step is one ledger row, optionally with a state change.
type Step struct {
	Op     Op
	Status OpStatus
	// To is the state to move to in the same transaction, or "".
	To     JobState
	Detail string
}

// OpStatus is the status of a ledger row.
type OpStatus string

// Ledger row statuses. A STARTED row without a later COMPLETED row for the
// same op marks an operation interrupted by a crash: it is replayed through
// the normal path, never treated as done.
const (
	OpStarted   OpStatus = "started"
	OpCompleted OpStatus = "completed"
	OpFailed    OpStatus = "failed"
)

// LedgerEntry is one row of the operation ledger.
type LedgerEntry struct {
	JobID  int64
	Epoch  int64
	Op     Op
	Status OpStatus
	Detail string
	At     time.Time
}

// Recovery is one action taken by a reconciler.
type Recovery struct {
	JobID  int64
	WorkID string
	// Action: "lease_expired", "attempts_exhausted", "artifact_missing",
	// "artifact_corrupt", "temp_removed", "orphan_artifact".
	Action string
	Detail string
}

// RetryFilter selects finished jobs to re-plan.
type RetryFilter struct {
	Codes        []Code
	AllRetryable bool
}

// Stats is a summary of the job store.
type Stats struct {
	Total      int              `json:"total"`
	ByState    map[JobState]int `json:"by_state"`
	ByCode     map[Code]int     `json:"by_code"`
	BySourceOK map[string]int   `json:"by_source_ok"`
	LiveLeases int              `json:"live_leases"`
	ByOutcome  map[Outcome]int  `json:"by_outcome"`
	Workers    map[string]int   `json:"workers,omitempty"`
	// LiveWorkers is filled by callers from a WorkerRegistry, not by Stats.
	LiveWorkers []WorkerInfo         `json:"live_workers,omitempty"`
	OldestLease map[string]time.Time `json:"-"`
}

// ArtifactStore keeps full-text files: written to a temp object, made
// durable, then made visible under a content address and a friendly name.
// Implementations (internal/filestore, internal/s3store) are safe for
// concurrent use and pass fulltexttest.RunArtifactStoreTests.
type ArtifactStore interface {
	// Create opens a temp artifact for lease l. Its name embeds the job and
	// epoch so that a reconciler removes only temps of dead leases.
	Create(ctx context.Context, l Lease) (TempArtifact, error)
	// Commit makes tmp durable and visible under its content address
	// (sha256) and under name. When identical content is already stored the
	// temp is dropped and the result has Existing set. Commit is idempotent:
	// committing the same content and name twice yields the same Artifact.
	Commit(ctx context.Context, tmp TempArtifact, name ArtifactName) (Artifact, error)
	// Open reads a committed artifact by its path.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Stat returns the size of a committed artifact; ErrNotFound if absent.
	Stat(ctx context.Context, path string) (int64, error)
	// Walk calls fn for every committed friendly path.
	Walk(ctx context.Context, fn func(path string, size int64) error) error
	// Remove deletes a committed friendly path (verify --repair).
	Remove(ctx context.Context, path string) error
	// Temps lists temp artifacts; RemoveTemp deletes one.
	Temps(ctx context.Context) ([]TempInfo, error)
	RemoveTemp(ctx context.Context, name string) error
}

// TempArtifact is an artifact being written. Not safe for concurrent use.
type TempArtifact interface {
	io.Writer
	// Name is the temp object's name.
	Name() string
	// Size is the number of bytes written so far.
	Size() int64
	// Abort removes the temp object; safe to call after Commit.
	Abort() error
}

// ArtifactName says where a committed artifact is shown.
type ArtifactName struct {
	// Path is the friendly path relative to the store root, e.g.
	// "pdf/10.5555_jsim.2021.0042.pdf". Sanitised by the caller with SafeName.
	Path   string
	SHA256 string
	Kind   Kind
}

// Artifact is a committed full text.
type Artifact struct {
	Path        string
	ContentPath string
	SHA256      string
	Bytes       int64
	Existing    bool
}

// TempInfo describes one temp artifact.
type TempInfo struct {
	Name  string
	JobID int64
	Epoch int64
}

// Validate reports a Step no store may write: an unknown op or status, or
// a completed FINALIZE (only Finish writes that, with the state change).
// The error wraps ErrBadTransition for the latter.
func (s Step) Validate() error {
	switch s.Op {
	case OpHead, OpStream, OpFinalize, OpIndex, OpDedupe:
	default:
		return fmt.Errorf("unknown ledger op %q", s.Op)
	}
	switch s.Status {
	case OpStarted, OpCompleted, OpFailed:
	default:
		return fmt.Errorf("unknown ledger status %q", s.Status)
	}
	if s.Op == OpFinalize && s.Status == OpCompleted {
		return fmt.Errorf("a completed FINALIZE is written by Finish: %w", ErrBadTransition)
	}
	return nil
}

// Validate reports a Finish no store may write: its State must be one a
// worker ends an attempt in (FINALIZED, DEDUPED, FAILED, SKIPPED_DUPLICATE,
// or PLANNED for a retry). The error wraps ErrBadTransition.
func (f Finish) Validate() error {
	switch f.State {
	case StateFinalized, StateDeduped, StateFailed, StateSkippedDuplicate, StatePlanned:
		return nil
	}
	return fmt.Errorf("finish in %q: %w", f.State, ErrBadTransition)
}
