// Package torture holds the crash-torture harness of oafetch (its tests;
// this file only documents it). The harness builds the real binary once,
// serves the simulated scholarly web in the test process, and then:
//
//   - kills `oafetch pull` with SIGKILL at random moments and at failpoints
//     before and after every side effect and ledger commit
//     (internal/failpoint), restarting it each time, over repeated rounds of
//     a whole-world pull, garbling unsynced temp files after half of the
//     kills (the power-loss model of the file store), then runs it once
//     more cleanly;
//   - kills pulls of large bulk PDFs right after a download checkpoint
//     (failpoint after-checkpoint), garbles what follows the checkpoints
//     half the time, and checks that the restart continues each transfer
//     with a Range request from its checkpoint and stores the right bytes;
//   - stops a worker process with SIGSTOP for twice the lease TTL while
//     another takes its jobs, then resumes it;
//   - injects ENOSPC and EIO into temp writes, fsyncs, renames and links;
//   - runs four `oafetch work` processes on one SQLite file;
//   - runs four `oafetch plan` processes on the same 10,000 identifiers.
//
// After each scenario it checks the invariants of docs/guarantees.md and
// prints a summary. `go test ./internal/torture` runs the CI size (at least
// 30 kills); `make torture` (OAFETCH_TORTURE=full) runs the full size (at
// least 200 kills over 2,000-work pulls). OAFETCH_TORTURE_ONLY=<step>
// (e.g. CrashResume) runs one scenario alone. Under -short the harness is
// skipped, except when CI is set.
package torture
