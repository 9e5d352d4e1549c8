// Package fulltexttest holds the conformance suites that every
// implementation of the fulltext store interfaces must pass:
// RunJobStoreTests for fulltext.JobStore (internal/sqlite,
// internal/postgres). A change of store semantics starts here.
//
// The suites use real stores: the caller's constructor returns a fresh,
// empty store for each subtest.
package fulltexttest
