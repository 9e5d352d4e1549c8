package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
)

// Refetcher re-downloads a stored full text conditionally and checks a
// new body is still the work's; *download.Downloader implements it.
type Refetcher interface {
	Refetch(ctx context.Context, l fulltext.Lease, c fulltext.Candidate, v download.Validators, hooks download.Hooks) (*download.Fetched, error)
	Verify(f *download.Fetched, w fulltext.Work) (string, error)
}

// refreshKey is the job-store meta key under which Refresh keeps a
// finalized job's result while the job is re-planned (Requeue clears it).
func refreshKey(jobID int64) string { return "refresh/" + strconv.FormatInt(jobID, 10) }

// Refresh re-plans every finalized work (FINALIZED, DEDUPED, INDEXED) whose
// result carries a validator (ETag or Last-Modified), for `--refresh`. The
// result is kept under a meta key first, then the job is requeued; a
// worker whose Pool has a Refetcher then asks the stored URL with
// If-None-Match / If-Modified-Since before anything else: 304 is
// ok-existing with the stored artifact (no body is transferred, no source
// is asked); a new body that validates and passes the wrong-work check
// replaces the artifact (ok-pdf…); anything
// else runs the full cascade. Works without a validator are left alone:
// there is nothing to ask conditionally. It returns how many works were
// re-planned. Safe to run again: a crash between the two writes leaves the
// job finalized with a stale meta value that the next Refresh overwrites.
func Refresh(ctx context.Context, store fulltext.JobStore) (int, error) {
	type stash struct {
		id  int64
		val string
	}
	var todo []stash
	err := store.Each(ctx, func(j fulltext.Job) error {
		switch j.State {
		case fulltext.StateFinalized, fulltext.StateDeduped, fulltext.StateIndexed:
		default:
			return nil
		}
		if j.Result == nil || j.Result.URL == "" || (j.Result.ETag == "" && j.Result.LastMod == "") {
			return nil
		}
		b, err := json.Marshal(j.Result)
		if err != nil {
			return err
		}
		todo = append(todo, stash{j.ID, string(b)})
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("refresh: %w", err)
	}
	for i, s := range todo {
		if err := store.SetMeta(ctx, refreshKey(s.id), s.val); err != nil {
			return i, fmt.Errorf("refresh: job %d: %w", s.id, err)
		}
		if err := store.Requeue(ctx, s.id, "refresh"); err != nil {
			return i, fmt.Errorf("refresh: job %d: %w", s.id, err)
		}
	}
	return len(todo), nil
}

// pendingRefresh returns the result Refresh kept for j, if any.
func (p *Pool) pendingRefresh(ctx context.Context, j fulltext.Job) *fulltext.Result {
	// Refresh requeues the job, which bumps its epoch: a first claim has
	// nothing kept, so the hot path skips the read.
	if p.refetch == nil || j.Epoch <= 1 {
		return nil
	}
	v, ok, err := p.store.GetMeta(ctx, refreshKey(j.ID))
	if err != nil || !ok || v == "" {
		return nil
	}
	var res fulltext.Result
	if json.Unmarshal([]byte(v), &res) != nil || res.URL == "" {
		return nil
	}
	return &res
}

// refresh asks the stored URL of prev conditionally. It returns the
// finish and attempt when the refresh decided the job (304, or a new valid
// body), and ok false when the full cascade must run instead.
func (r *jobRun) refresh(ctx context.Context, prev *fulltext.Result) (fin fulltext.Finish, att fulltext.Attempt, ok bool) {
	p := r.p
	cand := fulltext.Candidate{URL: prev.URL, Kind: prev.Kind, Source: prev.Source, Technique: "refresh"}
	start := p.cfg.Clock.Now()
	f, err := p.refetch.Refetch(hostpolicy.WithRobots(ctx), r.lease, cand,
		download.Validators{ETag: prev.ETag, LastModified: prev.LastMod},
		download.Hooks{Headers: r.onHeaders, Stream: r.onStream})
	att = fulltext.Attempt{Source: prev.Source, URL: prev.URL, Host: hostOf(prev.URL), Technique: "refresh", Kind: prev.Kind,
		At: start, Duration: p.cfg.Clock.Now().Sub(start)}
	if f != nil {
		att.HTTPStatus, att.Hops, att.Bytes = f.Status, f.Hops, f.Bytes
	}
	switch {
	case err != nil:
		att.Code, att.Detail = fulltext.CodeOf(err), "refresh: "+err.Error()
		return fin, att, false
	case f.NotModified:
		if n, err := p.artifacts.Stat(ctx, prev.Path); err != nil || n != prev.Bytes {
			att.Code, att.Detail = fulltext.CodeOKExisting, "refresh: 304 but the stored artifact is missing or changed"
			return fin, att, false
		}
		att.Code, att.Detail = fulltext.CodeOKExisting, "refresh: not modified (304)"
		return fulltext.Finish{
			State: fulltext.StateFinalized, Outcome: fulltext.OutcomeOK, Code: fulltext.CodeOKExisting,
			Detail: "not modified since the stored copy (304)", Result: prev,
		}, att, true
	case f.Temp == nil && (f.Page == nil || prev.Kind != fulltext.KindHTML):
		// The URL now serves a page where a file was: let the cascade decide.
		att.Code, att.Detail = fulltext.CodeWrongType, "refresh: the stored url now serves a page"
		return fin, att, false
	}
	detail, err := p.refetch.Verify(f, r.job.Work)
	if err != nil {
		_ = f.Abort()
		att.Code, att.Detail = fulltext.CodeOf(err), "refresh: "+err.Error()
		return fin, att, false
	}
	code := fulltext.CodeOKPDF
	switch {
	case f.Temp == nil:
		f.Kind, code = fulltext.KindHTML, fulltext.CodeOKHTML
	case f.Kind == fulltext.KindXML:
		code = fulltext.CodeOKXML
	}
	att.Code, att.Kind, att.Detail = code, f.Kind, "refresh: modified; downloaded again; "+detail
	fin = r.finishFor(ctx, cascadeResult{Work: r.job.Work, Winner: f, Candidate: cand, Code: code})
	return fin, att, true
}

// finishRefreshed records the finish with the refresh attempt and clears the
// kept result. It mirrors the end of process.
func (r *jobRun) finishRefreshed(ctx context.Context, fin fulltext.Finish, att fulltext.Attempt) error {
	p := r.p
	att.Seq = 1
	fin.Attempts = []fulltext.Attempt{att} // recorded in the Finish transaction
	if err := p.store.Finish(ctx, r.lease, fin); err != nil {
		return r.storeErr("finish", err)
	}
	if err := p.store.SetMeta(ctx, refreshKey(r.job.ID), ""); err != nil && !errors.Is(err, context.Canceled) {
		p.log.Warn("refresh: clear kept result", "work", r.job.Work.ID.String(), "err", err)
	}
	p.log.Debug("job refreshed", "work", r.job.Work.ID.String(), "code", fin.Code, "detail", fin.Detail)
	if p.observer != nil {
		p.observer.JobFinished(r.job, fin, []fulltext.Attempt{att})
	}
	return nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
