package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

var _ fulltext.WorkerRegistry = (*Store)(nil)

// Heartbeat records that worker w is alive now (database time); the first
// call records when it started.
func (s *Store) Heartbeat(ctx context.Context, w fulltext.WorkerInfo) error {
	err := ctx.Err()
	if err == nil {
		_, err = s.pool.Exec(ctx, q(`INSERT INTO workers (name, host, pid, started_at, seen_at) VALUES ($2, $3, $4, :now, :now)
			ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, seen_at = excluded.seen_at`),
			s.now(), w.Name, w.Host, w.PID)
	}
	if err != nil {
		return fmt.Errorf("postgres: heartbeat %s: %w", w.Name, err)
	}
	return nil
}

// Leave removes the worker's heartbeat row.
func (s *Store) Leave(ctx context.Context, name string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM workers WHERE name = $1`, name); err != nil {
		return fmt.Errorf("postgres: leave %s: %w", name, err)
	}
	return nil
}

// LiveWorkers lists, by name, the workers seen within the last within.
func (s *Store) LiveWorkers(ctx context.Context, within time.Duration) ([]fulltext.WorkerInfo, error) {
	rows, err := s.pool.Query(ctx, q(`SELECT name, host, pid, started_at, seen_at FROM workers
		WHERE seen_at > :now - $2 * interval '1 microsecond' ORDER BY name`), s.now(), micros(within))
	var out []fulltext.WorkerInfo
	if err == nil {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (fulltext.WorkerInfo, error) {
			var w fulltext.WorkerInfo
			err := row.Scan(&w.Name, &w.Host, &w.PID, &w.Started, &w.Seen)
			w.Started, w.Seen = w.Started.UTC(), w.Seen.UTC()
			return w, err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: live workers: %w", err)
	}
	return out, nil
}
