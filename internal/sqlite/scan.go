package sqlite

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// jobColumns lists the columns scanJob reads, in order.
const jobColumns = `id, key, work, record, state, epoch, owner, lease_until, attempts,
	not_before, outcome, code, detail, result, created_at, updated_at`

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanJob reads one row of jobColumns.
func scanJob(sc scanner) (fulltext.Job, error) {
	var (
		j                                  fulltext.Job
		key                                []byte
		work                               string
		record                             []byte
		result                             sql.NullString
		leaseUntil, notBefore, created, up int64
	)
	err := sc.Scan(&j.ID, &key, &work, &record, &j.State, &j.Epoch, &j.Owner, &leaseUntil, &j.Attempts,
		&notBefore, &j.Outcome, &j.Code, &j.Detail, &result, &created, &up)
	if err != nil {
		return fulltext.Job{}, err
	}
	j.Key = hex.EncodeToString(key)
	if err := json.Unmarshal([]byte(work), &j.Work); err != nil {
		return fulltext.Job{}, fmt.Errorf("job %d: work: %w", j.ID, err)
	}
	if len(record) > 0 {
		j.Work.Record = record
	}
	if result.Valid {
		j.Result = new(fulltext.Result)
		if err := json.Unmarshal([]byte(result.String), j.Result); err != nil {
			return fulltext.Job{}, fmt.Errorf("job %d: result: %w", j.ID, err)
		}
	}
	j.LeaseUntil = fromNanos(leaseUntil)
	j.NotBefore = fromNanos(notBefore)
	j.CreatedAt = fromNanos(created)
	j.UpdatedAt = fromNanos(up)
	return j, nil
}

// encodeWork returns the work's JSON without its record, and the record
// verbatim (nil when absent), so that the record round-trips byte for byte.
func encodeWork(w fulltext.Work) (string, []byte, error) {
	record := w.Record
	w.Record = nil
	b, err := json.Marshal(w)
	if err != nil {
		return "", nil, err
	}
	if len(record) == 0 {
		record = nil
	}
	return string(b), record, nil
}

// encodeResult returns r as JSON, or NULL for nil.
func encodeResult(r *fulltext.Result) (sql.NullString, error) {
	if r == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}
