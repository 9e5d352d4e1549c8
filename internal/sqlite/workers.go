package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

var _ fulltext.WorkerRegistry = (*Store)(nil)

// Heartbeat records that worker w is alive now; the first call records
// when it started.
func (s *Store) Heartbeat(ctx context.Context, w fulltext.WorkerInfo) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := s.now()
		_, err := tx.ExecContext(ctx, `INSERT INTO workers (name, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, seen_at = excluded.seen_at`,
			w.Name, w.Host, w.PID, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: heartbeat %s: %w", w.Name, err)
	}
	return nil
}

// Leave removes the worker's heartbeat row.
func (s *Store) Leave(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM workers WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: leave %s: %w", name, err)
	}
	return nil
}

// LiveWorkers lists, by name, the workers seen within the last within.
func (s *Store) LiveWorkers(ctx context.Context, within time.Duration) ([]fulltext.WorkerInfo, error) {
	var out []fulltext.WorkerInfo
	err := s.read(ctx, func(tx *sql.Tx) error {
		return eachRow(ctx, tx, `SELECT name, host, pid, started_at, seen_at FROM workers WHERE seen_at > ? ORDER BY name`,
			[]any{s.now() - int64(within)}, func(rows *sql.Rows) error {
				var (
					w          fulltext.WorkerInfo
					start, see int64
				)
				if err := rows.Scan(&w.Name, &w.Host, &w.PID, &start, &see); err != nil {
					return err
				}
				w.Started, w.Seen = fromNanos(start), fromNanos(see)
				out = append(out, w)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: live workers: %w", err)
	}
	return out, nil
}
