package fulltext

import (
	"context"
	"time"
)

// WorkerInfo is the heartbeat of one worker process.
type WorkerInfo struct {
	// Name is the process's lease owner prefix, "host:pid".
	Name    string    `json:"name"`
	Host    string    `json:"host,omitempty"`
	PID     int       `json:"pid,omitempty"`
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
}

// WorkerRegistry keeps worker heartbeats in the job store, so that `status`
// shows the live fleet and each worker can divide per-host budgets by the
// number of live workers. Job stores implement it optionally (internal/sqlite
// and internal/postgres do); callers type-assert. Implementations pass
// fulltexttest.RunWorkerRegistryTests.
type WorkerRegistry interface {
	// Heartbeat records that worker w is alive now (the store's clock);
	// the first call records Started too.
	Heartbeat(ctx context.Context, w WorkerInfo) error
	// Leave removes the worker's row (graceful stop). Unknown names are
	// not an error.
	Leave(ctx context.Context, name string) error
	// LiveWorkers lists, by name, the workers whose last heartbeat is
	// younger than within.
	LiveWorkers(ctx context.Context, within time.Duration) ([]WorkerInfo, error)
}
