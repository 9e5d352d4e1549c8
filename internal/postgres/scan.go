package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// jobColumnsQ lists the columns scanJob reads, in order, qualified so that
// they can follow UPDATE … FROM.
const jobColumnsQ = `jobs.id, jobs.key, jobs.work, jobs.record, jobs.state, jobs.epoch, jobs.owner,
	jobs.lease_until, jobs.attempts, jobs.not_before, jobs.outcome, jobs.code, jobs.detail,
	jobs.result, jobs.created_at, jobs.updated_at`

// scanJob reads one row of jobColumnsQ.
func scanJob(row pgx.CollectableRow) (fulltext.Job, error) {
	var (
		j                   fulltext.Job
		work                string
		record, result      []byte
		leaseUntil          *time.Time
		notBefore, cre, upd time.Time
	)
	err := row.Scan(&j.ID, &j.Key, &work, &record, &j.State, &j.Epoch, &j.Owner, &leaseUntil, &j.Attempts,
		&notBefore, &j.Outcome, &j.Code, &j.Detail, &result, &cre, &upd)
	if err != nil {
		return fulltext.Job{}, err
	}
	if err := json.Unmarshal([]byte(work), &j.Work); err != nil {
		return fulltext.Job{}, fmt.Errorf("job %d: work: %w", j.ID, err)
	}
	if len(record) > 0 {
		j.Work.Record = record
	}
	if result != nil {
		j.Result = new(fulltext.Result)
		if err := json.Unmarshal(result, j.Result); err != nil {
			return fulltext.Job{}, fmt.Errorf("job %d: result: %w", j.ID, err)
		}
	}
	j.LeaseUntil = fromTS(leaseUntil)
	j.NotBefore = notBefore.UTC()
	j.CreatedAt = cre.UTC()
	j.UpdatedAt = upd.UTC()
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

// encodeResult returns r as JSON, or nil (NULL) for nil.
func encodeResult(r *fulltext.Result) (any, error) {
	if r == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}
