package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// LeaseLive reports whether l is the job's current lease and has not
// expired: the reconciler leaves that lease's temp artifacts alone.
func (s *Store) LeaseLive(ctx context.Context, l fulltext.Lease) (bool, error) {
	var n int
	err := s.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE id = ? AND epoch = ? AND lease_until > ?`,
			l.JobID, l.Epoch, s.now()).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: lease live %v: %w", l, err)
	}
	return n > 0, nil
}
