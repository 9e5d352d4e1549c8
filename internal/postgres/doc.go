// Package postgres is the fulltext.JobStore for fleets: one PostgreSQL
// database shared by `oafetch work` processes on many machines. It has the
// semantics of internal/sqlite, proven by the same conformance suite
// (fulltexttest.RunJobStoreTests).
//
// # Time
//
// Leases, not_before and every timestamp come from the database clock
// (now(), the start of the transaction), never from a worker's clock, so a
// worker whose clock is skewed neither steals live leases nor keeps dead
// ones. Tests may pass a fulltext.Clock in Options instead.
//
// # Claiming
//
// Claim is one statement: two index range scans (due PLANNED jobs through
// the partial index jobs_claim, expired leases through jobs_lease), each
// locking its rows FOR UPDATE SKIP LOCKED, merged oldest first and updated
// to LEASED with the epoch and attempt counter incremented. Concurrent
// claimers skip each other's rows instead of waiting, and a row a
// concurrent transaction changed is re-checked against the predicate
// (READ COMMITTED re-evaluation), so no job is leased twice.
//
// # Fencing
//
// Every claim increments the job's epoch. Every write a worker makes first
// locks the job row by (id, epoch) FOR UPDATE and checks that it is still in
// a leased state; when it is not, the store returns fulltext.ErrLeaseLost
// and writes nothing. Ledger rows are written in the same transaction as
// the state change they describe.
//
// # Schema
//
// The schema lives in embedded numbered migrations (migrations/NNNN_*.sql),
// applied at Open in one transaction under a transaction-scoped advisory
// lock (so a fleet starting at once applies each migration once) and
// recorded in schema_migrations. Migrations only add (tables, columns with
// defaults, indexes), so workers one version behind keep running during a
// rolling upgrade. A database migrated by a newer binary is refused with an
// error wrapping fulltext.ErrSchemaTooNew. Options.Schema keeps a store in
// its own PostgreSQL schema (created when missing), so several stores, or
// parallel tests, can share one database.
//
// # Connections
//
// A pgxpool.Pool reconnects on its own: a statement on a broken connection
// fails (the caller retries or lets the lease run out), and the next one
// gets a fresh connection. A worker cut off for longer than its lease TTL
// loses its leases cleanly: the epoch fences its late writes.
package postgres
