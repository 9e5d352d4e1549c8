// Package fulltexttest holds the conformance suites that every
// implementation of the fulltext store interfaces must pass:
// RunJobStoreTests for fulltext.JobStore (internal/sqlite,
// internal/postgres), RunWorkerRegistryTests for fulltext.WorkerRegistry
// (the same two), RunArtifactStoreTests for fulltext.ArtifactStore
// (internal/filestore, internal/s3store), RunResumableStoreTests for
// fulltext.ResumableStore (the same two). A change of store semantics
// starts here.
//
// The suites use real stores: the caller's constructor returns a fresh,
// empty store for each subtest.
package fulltexttest
