// Package sqlite is the embedded fulltext.JobStore: one SQLite file, shared
// by every goroutine of a process and by several processes on one machine.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: a commit is durable
// against a process crash at once, and against a power loss once the WAL is
// checkpointed. That is enough because the store never holds the only copy
// of anything valuable. An artifact is written to a temp file, fsynced,
// renamed and its directory fsynced before its job may become FINALIZED, so
// the file on disk always precedes the row that points to it. A power loss
// can therefore lose only the last few commits: a FINALIZE that vanished
// leaves the job leased (or PLANNED), its lease expires, the reconciler makes
// it claimable, and the replay finds the artifact already stored (identical
// content is deduplicated by its sha256) and finalizes again. Lost PLANNED
// rows are re-created by re-planning, which is idempotent. FULL would cost a
// fsync per claim (measured 7–15× fewer claims per second) to protect state
// that the replay re-derives anyway.
//
// # Concurrency
//
// Every write runs in a BEGIN IMMEDIATE transaction, which takes the write
// lock up front. Deferred transactions that read and then write can fail
// with SQLITE_BUSY (snapshot) when another connection committed in between,
// and SQLite's busy handler cannot retry those; immediate transactions only
// ever wait, up to Options.BusyTimeout, so several processes on one file
// never see "database is locked" under normal load. Within a process the
// writes share one connection (database/sql queues them without sleeping),
// and reads use a separate pool of read-only connections that WAL lets run
// beside the writer.
//
// # Group commit
//
// The lease writes of many workers (Claim, Step, Finish, AddAttempts) share
// transactions: a write is queued, and the caller that finds no group
// transaction running leads one, taking every queued write (up to 64, and
// those queued while it runs) into one BEGIN IMMEDIATE … COMMIT, each inside
// its own SAVEPOINT. A write that fails — a stale epoch (ErrLeaseLost), an
// illegal move, a constraint — is rolled back alone and its caller alone
// gets the error; the others commit. A group whose commit fails fails all
// its writes. There are no timers: a lone write begins at once, so an idle
// store adds no latency, and every caller returns only after the
// transaction carrying its write committed, so durability is as above. With
// 16 concurrent claim+finish loops the store ran 12–13 writes per
// transaction and 45 % less time per job (BenchmarkParallelClaimFinish).
// Finish records the attempts of the claim in its own transaction
// (fulltext.Finish.Attempts).
//
// # Planning and memory
//
// Plan runs one transaction per call. A PlanSession (Store.BeginPlan) is
// for large inputs (`oafetch plan/pull --input`): its Plan calls share
// transactions of up to 250,000 works, and the writer's page cache is
// 64 MiB while it is open. The idempotency key index is in random order (a
// SHA-256), so each commit rewrites to the WAL nearly every index page its
// works touched; fewer, larger commits are what made 1,000,000 ids plan in
// 11 s instead of 49 s on the development machine. The rows of one INSERT
// are encoded in a second goroutine while SQLite inserts the previous one.
// Jobs are numbered, and so claimed, in input order either way. A crash
// loses at most the open transaction; planning again is idempotent.
//
// Memory does not grow with the number of jobs: outside a session the
// writer's page cache is 8 MiB (Close of a session lowers it and runs
// PRAGMA shrink_memory), each reader's 2 MiB, a checkpointed WAL is cut
// back to 64 MiB, readers sort (Stats' GROUP BY) in temp files rather than
// memory, and Each reads a page of jobs at a time.
//
// # Fencing
//
// Every claim increments the job's epoch. Every write a worker makes is
// conditional on the job id, the epoch of its lease, and the job being in a
// leased state; when it matches no row the store returns
// fulltext.ErrLeaseLost and writes nothing.
//
// # Schema
//
// The schema lives in embedded numbered migrations (migrations/NNNN_*.sql),
// applied in order in one transaction at Open and recorded in
// schema_migrations. A database migrated by a newer binary is refused with
// an error wrapping fulltext.ErrSchemaTooNew.
package sqlite
