package fulltext

import (
	"context"
	"io"
)

// ResumeKey names the kept prefix of an interrupted transfer: the job and
// the candidate URL (before redirects) it was fetching.
type ResumeKey struct {
	JobID int64
	URL   string
}

// ResumeInfo describes a kept prefix: what a later attempt needs to ask for
// the rest with Range and If-Range.
type ResumeInfo struct {
	// Validator is the strong ETag, else the Last-Modified, of the response
	// the bytes came from; it goes in If-Range.
	Validator string
	// Total is the length of the whole file (the response's Content-Length).
	Total int64
	// Offset is the number of bytes kept (0 < Offset < Total).
	Offset int64
}

// ResumableStore is an ArtifactStore that can keep the verified prefix of an
// interrupted transfer across attempts, leases and processes. It is
// optional: a downloader whose store does not implement it starts every
// attempt from byte zero. internal/filestore and internal/s3store
// implement it (only the filestore also implements CheckpointStore).
//
// Kept prefixes are not temps of a lease (Temps does not list them): they
// belong to the job, and a reconciler removes them once the job is terminal
// (KeptJobs, DropKept).
type ResumableStore interface {
	// Keep makes tmp's bytes durable and sets them aside for k, replacing
	// any prefix kept for k before; info.Offset is ignored (tmp.Size is
	// kept). tmp is closed: it can no longer be written or committed, and
	// Abort is a no-op. On error the caller still owns tmp (Abort it).
	Keep(ctx context.Context, tmp TempArtifact, k ResumeKey, info ResumeInfo) error
	// Adopt opens the prefix kept for k: a reader of exactly info.Offset
	// bytes. found is false when nothing (or nothing consistent) is kept.
	// The prefix stays kept until DropKept.
	Adopt(ctx context.Context, k ResumeKey) (prefix io.ReadCloser, info ResumeInfo, found bool, err error)
	// DropKept removes the prefix kept for k; with k.URL empty, every prefix
	// kept for job k.JobID. Removing nothing is not an error.
	DropKept(ctx context.Context, k ResumeKey) error
	// KeptJobs returns the ids of the jobs that have kept prefixes.
	KeptJobs(ctx context.Context) ([]int64, error)
}

// Checkpointer is a TempArtifact that can make the bytes written so far
// durable while the transfer goes on, so that a crash (kill -9, power loss)
// in the middle of a body does not lose them. It is optional: a downloader
// whose temps do not implement it checkpoints nothing.
type Checkpointer interface {
	// Checkpoint makes the temp's bytes written so far durable and records,
	// durably and atomically, that they are the prefix of the transfer k
	// described by info (info.Offset is ignored: the temp's Size is
	// recorded). Only bytes before the last successful checkpoint are ever
	// trusted after a crash. Checkpoint may run concurrently with Write
	// (it covers the bytes written when it started), never with Commit,
	// Keep or Abort of the same temp.
	Checkpoint(ctx context.Context, k ResumeKey, info ResumeInfo) error
}

// CheckpointStore is a ResumableStore whose temps are Checkpointers and
// which can turn the checkpointed temp of a dead lease into a kept prefix.
type CheckpointStore interface {
	ResumableStore
	// RecoverTemp turns the temp named name (as listed by Temps; its lease
	// must no longer be live) into the prefix kept for its checkpoint's
	// key, cut to the checkpoint's offset. kept is false when it has no
	// valid checkpoint (none, torn, or its bytes no longer match): the
	// caller removes it (it may be gone already). An error wrapping
	// ErrNotFound when the temp is gone.
	RecoverTemp(ctx context.Context, name string) (k ResumeKey, info ResumeInfo, kept bool, err error)
	// HasCheckpoint reports whether the temp named name has a checkpoint
	// sidecar (valid or not): a periodic reconciler leaves such a temp to
	// its job's next claim, which recovers it before adopting it.
	HasCheckpoint(ctx context.Context, name string) (bool, error)
}
