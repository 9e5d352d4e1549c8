package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Resume across attempts. When the store is a fulltext.ResumableStore, a
// body interrupted for good (the in-fetch resumptions of resume.go gave up:
// truncated, network-error, timeout) is kept with its validator under
// (job, candidate URL) instead of aborted. The next Fetch of the same job
// and candidate — a new lease, maybe a new process — adopts it: the
// redirect chain is followed with Range: bytes=N- and If-Range; on a 206
// that continues exactly at N the kept prefix is read once (hashed,
// validated, written to the new temp) and the rest streams from the 206. A
// 200 (Range ignored, or the file changed) drops the prefix and reads the
// body from byte zero; a 416 or a 206 for another range drops it and asks
// again without Range. Any other answer leaves the prefix kept.

// adoption is a kept prefix opened for this Fetch.
type adoption struct {
	rs     fulltext.ResumableStore
	key    fulltext.ResumeKey
	info   fulltext.ResumeInfo
	prefix io.ReadCloser
	closed bool
}

func (a *adoption) close() {
	if !a.closed {
		a.closed = true
		_ = a.prefix.Close()
	}
}

// drop closes and removes the kept prefix: its bytes are either in the new
// temp now or no longer wanted.
func (a *adoption) drop() {
	a.close()
	_ = a.rs.DropKept(context.Background(), a.key)
}

// reader returns exactly info.Offset bytes of the prefix; the prefix is
// dropped once they are read. A short prefix is a store-error.
func (a *adoption) reader() io.Reader { return &prefixReader{a: a, left: a.info.Offset} }

type prefixReader struct {
	a    *adoption
	left int64
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, err := p.a.prefix.Read(b)
	p.left -= int64(n)
	if p.left == 0 {
		p.a.drop()
		return n, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return n, &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: kept prefix: %w", err)}
	}
	return n, nil
}

// adoptKept opens the prefix an earlier attempt kept for r.key, if any.
// When none is kept and the lease is a re-claim (epoch > 1), the
// checkpointed temps of this job's earlier epochs — dead by fencing: a
// crashed holder's, which the reconciler did not reach yet because its
// lease had only just expired — are recovered first (recoverOwnTemps).
func (r *run) adoptKept() {
	rs, ok := r.d.store.(fulltext.ResumableStore)
	if !ok {
		return
	}
	prefix, info, found, err := rs.Adopt(r.parent, r.key)
	if err == nil && !found && r.l.Epoch > 1 && r.recoverOwnTemps() {
		prefix, info, found, err = rs.Adopt(r.parent, r.key)
	}
	if err != nil || !found {
		return
	}
	r.adopted = &adoption{rs: rs, key: r.key, info: info, prefix: prefix}
}

// recoverOwnTemps turns the checkpointed temps of r's job left by earlier
// epochs into kept prefixes (fulltext.CheckpointStore.RecoverTemp) and
// removes those without a valid checkpoint, as the reconciler would: a
// temp of an earlier epoch is dead, its holder was fenced out when this
// lease was claimed. It reports whether such a temp was seen (a
// reconciler may have recovered it first: Adopt is worth asking again).
func (r *run) recoverOwnTemps() bool {
	cs, ok := r.d.store.(fulltext.CheckpointStore)
	if !ok {
		return false
	}
	temps, err := r.d.store.Temps(r.parent)
	if err != nil {
		return false
	}
	recovered := false
	for _, t := range temps {
		if t.JobID != r.l.JobID || t.Epoch >= r.l.Epoch {
			continue
		}
		recovered = true
		if _, _, kept, err := cs.RecoverTemp(r.parent, t.Name); err == nil && !kept {
			_ = r.d.store.RemoveTemp(r.parent, t.Name)
		}
	}
	return recovered
}

func (r *run) closeAdopted() {
	if r.adopted != nil {
		r.adopted.close()
	}
}

// rangeInfo is what follow asks for: the rest after the adopted prefix.
func (r *run) rangeInfo() *fulltext.ResumeInfo {
	if r.adopted == nil {
		return nil
	}
	return &r.adopted.info
}

// checkAdopted looks at the final answer to a Range request: a 206 that
// continues the prefix sets r.resumed; a 200 drops the prefix (the body is
// read from zero); a 416 or a 206 for another range drops it and follows c
// again without Range; anything else forgets the adoption (the prefix stays
// kept for a later attempt) and is handled as usual.
func (r *run) checkAdopted(c fulltext.Candidate, hops []string) ([]string, error) {
	a, resp := r.adopted, r.x.resp
	switch resp.StatusCode {
	case http.StatusPartialContent:
		first, last, total, ok := ParseContentRange(resp.Header.Get("Content-Range"))
		if ok && first == a.info.Offset && total == a.info.Total && last == total-1 &&
			resp.Header.Get("Content-Encoding") == "" {
			r.resumed = true
			return hops, nil
		}
	case http.StatusOK:
		a.drop()
		r.adopted = nil
		return hops, nil
	case http.StatusRequestedRangeNotSatisfiable:
	default:
		a.close()
		r.adopted = nil
		return hops, nil
	}
	a.drop()
	r.adopted = nil
	r.x.close()
	r.x = r.d.newXfer(r.parent)
	return r.d.follow(r.x, c, Validators{}, nil)
}

// keep sets tmp aside for the next attempt instead of aborting it, when
// the failure err is one a later attempt may get past and the body can be
// resumed (a validator, a known length, some bytes but not all). It
// reports whether tmp was kept. A body the caller stopped (ctx cancelled:
// a graceful stop past its grace, or another candidate that won) is kept
// too once it is at least MinCheckpointBytes long: shorter ones are
// cheaper to fetch again than to fsync.
func (r *run) keep(tmp fulltext.TempArtifact, body *meter, err error) bool {
	switch code := fulltext.CodeOf(err); {
	case code == fulltext.CodeTruncated, code == fulltext.CodeNetworkError, code == fulltext.CodeTimeout:
	case errors.Is(err, context.Canceled) && r.parent.Err() != nil && body.n >= MinCheckpointBytes:
	default:
		return false
	}
	rs, ok := r.d.store.(fulltext.ResumableStore)
	if !ok || !r.resume.ok || body.n <= 0 || body.n >= r.resume.total || tmp.Size() != body.n {
		return false
	}
	info := fulltext.ResumeInfo{Validator: r.resume.validator, Total: r.resume.total, Offset: body.n}
	// Marked before Keep: a Keep that fails half-way may still leave
	// something for DropKept to remove.
	r.d.kept.Store(r.l.JobID, struct{}{})
	return rs.Keep(context.WithoutCancel(r.parent), tmp, r.key, info) == nil
}
