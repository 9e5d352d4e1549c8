package sqlite

import (
	"context"
	"fmt"
)

// ListMeta returns every meta key that begins with prefix, with its value.
// The prefix is compared with substr, not LIKE, so '%' and '_' in it are
// literal and the comparison is case-sensitive.
func (s *Store) ListMeta(ctx context.Context, prefix string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT key, value FROM meta WHERE key >= ? AND substr(key, 1, length(?)) = ? ORDER BY key`,
		prefix, prefix, prefix)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list meta %q: %w", prefix, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: list meta %q: %w", prefix, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list meta %q: %w", prefix, err)
	}
	return out, nil
}
