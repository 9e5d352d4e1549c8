package sqlite

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

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
	if err := decodeWork(work, &j.Work); err != nil {
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

// decodeWork decodes into w the JSON encodeWork stored. Each reads every
// job (the reconciler's scan of a million jobs spent a third of its time in
// json.Unmarshal of works), so the exact shape json.Marshal gives a
// fulltext.Work whose strings need no escapes is read directly; anything
// else (an escape, another field, another order) goes to json.Unmarshal.
func decodeWork(s string, w *fulltext.Work) error {
	if fastWork(s, w) {
		return nil
	}
	*w = fulltext.Work{}
	return json.Unmarshal([]byte(s), w)
}

// fastWork reads s when it is
// {"id":{"Kind":K,"Value":V},"ids":{…}[,"title":T][,"year":N]} with plain
// strings; false (w untouched) otherwise.
func fastWork(s string, w *fulltext.Work) bool {
	c := cursor{s: s}
	var out fulltext.Work
	if !c.lit(`{"id":{"Kind":`) {
		return false
	}
	kind, ok := c.str()
	if !ok || !c.lit(`,"Value":`) {
		return false
	}
	if out.ID.Value, ok = c.str(); !ok || !c.lit(`},"ids":{`) {
		return false
	}
	out.ID.Kind = fulltext.IDKind(kind)
	for n := 0; !c.lit(`}`); n++ {
		if n > 0 && !c.lit(`,`) {
			return false
		}
		key, ok := c.str()
		if !ok || !c.lit(`:`) {
			return false
		}
		val, ok := c.str()
		if !ok {
			return false
		}
		switch key {
		case "doi":
			out.IDs.DOI = val
		case "pmid":
			out.IDs.PMID = val
		case "pmcid":
			out.IDs.PMCID = val
		case "arxiv":
			out.IDs.ArXiv = val
		case "openalex":
			out.IDs.OpenAlex = val
		default:
			return false
		}
	}
	if c.lit(`,"title":`) {
		if out.Title, ok = c.str(); !ok {
			return false
		}
	}
	if c.lit(`,"year":`) {
		j := c.i
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || j == c.i && s[j] == '-') {
			j++
		}
		y, err := strconv.Atoi(s[c.i:j])
		if err != nil {
			return false
		}
		out.Year, c.i = y, j
	}
	if !c.lit(`}`) || c.i != len(s) {
		return false
	}
	*w = out
	return true
}

// cursor reads a JSON text the fast path understands.
type cursor struct {
	s string
	i int
}

// lit consumes p if the text continues with it.
func (c *cursor) lit(p string) bool {
	if strings.HasPrefix(c.s[c.i:], p) {
		c.i += len(p)
		return true
	}
	return false
}

// str consumes a string without escapes or control characters.
func (c *cursor) str() (string, bool) {
	if c.i >= len(c.s) || c.s[c.i] != '"' {
		return "", false
	}
	for j := c.i + 1; j < len(c.s); j++ {
		switch b := c.s[j]; {
		case b == '"':
			v := c.s[c.i+1 : j]
			c.i = j + 1
			return v, true
		case b == '\\' || b < 0x20:
			return "", false
		}
	}
	return "", false
}
