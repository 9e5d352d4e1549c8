package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// planChunk is the number of rows per multi-row INSERT (7 parameters each,
// well under SQLite's 32,766-variable limit).
const planChunk = 500

// Plan inserts one PLANNED job per new work in one transaction, with
// multi-row INSERT … ON CONFLICT(key) DO NOTHING, so that it is idempotent
// also when several processes plan the same works at once. New jobs are due
// at once (not_before is now). A work without an id is an error and nothing
// is planned.
func (s *Store) Plan(ctx context.Context, works []fulltext.Work) (fulltext.PlanResult, error) {
	if len(works) == 0 {
		return fulltext.PlanResult{}, nil
	}
	for i, w := range works {
		if w.ID.IsZero() {
			return fulltext.PlanResult{}, fmt.Errorf("sqlite: plan: work %d has no id", i)
		}
	}
	var created int
	err := s.write(ctx, func(tx *sql.Tx) error {
		created = 0
		now := s.now()
		var full *sql.Stmt
		args := make([]any, 0, planChunk*7)
		for start := 0; start < len(works); start += planChunk {
			chunk := works[start:min(start+planChunk, len(works))]
			args = args[:0]
			for _, w := range chunk {
				work, record, err := encodeWork(w)
				if err != nil {
					return err
				}
				args = append(args, keyBytes(w.Key()), w.ID.String(), work, record, now, now, now)
			}
			var (
				res sql.Result
				err error
			)
			if len(chunk) == planChunk {
				if full == nil {
					if full, err = tx.PrepareContext(ctx, planInsert(planChunk)); err != nil {
						return err
					}
					defer full.Close()
				}
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, planInsert(len(chunk)), args...)
			}
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			created += int(n)
		}
		return nil
	})
	if err != nil {
		return fulltext.PlanResult{}, fmt.Errorf("sqlite: plan: %w", err)
	}
	return fulltext.PlanResult{Created: created, Existing: len(works) - created}, nil
}

// planInsert returns the INSERT of n jobs.
func planInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO jobs (key, work_id, work, record, state, not_before, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, 'PLANNED', ?, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT (key) DO NOTHING`)
	return b.String()
}

// keyBytes returns the stored form of an idempotency key: the bytes its hex
// spells, half the size in the unique index.
func keyBytes(key string) []byte {
	b, err := hex.DecodeString(key)
	if err != nil { // not a Work.Key; keep it verbatim rather than collide
		return []byte(key)
	}
	return b
}
