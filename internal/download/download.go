// Package download streams one candidate URL into the artifact store:
// redirects followed by hand, a body cap on the running count, a stall
// timeout, sniffing and validation of what arrived, and SHA-256 computed
// while streaming. Every failure is a *fulltext.Error carrying an outcome
// code (DESIGN.md §7), and a failed download leaves no temp behind.
package download

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/verify"
)

// Config configures a Downloader. Zero fields take the documented defaults.
type Config struct {
	// MaxBodyBytes caps a body (after content decoding, so that a gzip bomb
	// stops here too), enforced on the running count, not only on
	// Content-Length. Defaults to 256 MiB (net.max_body_bytes).
	MaxBodyBytes int64
	// MaxPageBytes caps an HTML or text page kept in memory for landing
	// analysis; the rest of a longer page is not read. Defaults to 4 MiB.
	MaxPageBytes int64
	// MinPDFBytes: a smaller PDF is too-small. Defaults to 1 KiB.
	MinPDFBytes int64
	// StallTimeout aborts a transfer (timeout) when no byte arrives for this
	// long, headers included. Defaults to 30s.
	StallTimeout time.Duration
	// MaxHops is the number of redirects followed; one more is max-hops.
	// Defaults to 10.
	MaxHops int
	// UserAgent is sent with every request when set (the client's transport
	// may also set it).
	UserAgent string
	// Clock resolves Retry-After dates. Defaults to the system clock.
	Clock fulltext.Clock
	// VerifyBytes is how much of a PDF or XML body is kept in memory for
	// the wrong-work check (Verify): a PDF larger than this is not parsed
	// (inconclusive). Defaults to 8 MiB.
	VerifyBytes int64
	// Verify bounds the wrong-work check's parser (package verify).
	Verify verify.Config
	// CheckpointBytes: while a resumable body (a length and a validator)
	// streams into a temp that supports checkpoints
	// (fulltext.Checkpointer: the filestore's do), the temp is
	// checkpointed — fsynced, with a sidecar naming the job, candidate URL,
	// validator, length and offset — every CheckpointBytes bytes, so that
	// a crash mid-transfer keeps the synced prefix for the next attempt
	// (docs/download-engine.md). Defaults to 8 MiB; negative disables
	// checkpoints.
	CheckpointBytes int64
	// CheckpointInterval also checkpoints a slow body when this long has
	// passed since its last checkpoint (or its start) and at least
	// MinCheckpointBytes arrived since. Defaults to 5s; negative disables
	// time-based checkpoints. A body under MinCheckpointBytes is never
	// checkpointed: small files pay nothing.
	CheckpointInterval time.Duration
}

// MinCheckpointBytes is the fewest new bytes a checkpoint is made for.
const MinCheckpointBytes = 1 << 20

func (c Config) withDefaults() Config {
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 256<<20)
	c.MaxPageBytes = cmp.Or(c.MaxPageBytes, 4<<20)
	c.MinPDFBytes = cmp.Or(c.MinPDFBytes, 1<<10)
	c.StallTimeout = cmp.Or(c.StallTimeout, 30*time.Second)
	c.MaxHops = cmp.Or(c.MaxHops, 10)
	c.VerifyBytes = cmp.Or(c.VerifyBytes, 8<<20)
	c.CheckpointBytes = cmp.Or(c.CheckpointBytes, 8<<20)
	c.CheckpointInterval = cmp.Or(c.CheckpointInterval, 5*time.Second)
	if c.Clock == nil {
		c.Clock = fulltext.SystemClock{}
	}
	return c
}

// Downloader fetches candidates into an artifact store. It holds no
// per-download state and is safe for concurrent use.
type Downloader struct {
	cfg    Config
	client *http.Client
	store  fulltext.ArtifactStore
	check  *verify.Checker
	kept   sync.Map // job id → struct{}: jobs this Downloader kept a prefix for (TakeKept)
}

// TakeKept reports whether this Downloader kept a prefix for the job since
// the last TakeKept of that job, and forgets it. A worker asks at the end
// of a claim: prefixes can only exist for a job that an earlier lease or
// this Downloader kept one for, so a first lease (epoch 1) that kept none
// has nothing to drop (on S3, dropping costs a LIST request).
func (d *Downloader) TakeKept(jobID int64) bool {
	_, ok := d.kept.LoadAndDelete(jobID)
	return ok
}

// New returns a Downloader using a copy of client whose CheckRedirect stops
// at every redirect (the Downloader follows them itself, checking each hop);
// the caller's client is not modified. client (not nil) carries the
// politeness, robots and address policies in its transport; errors those
// return as *fulltext.Error (skip-blocklist, rate-limited…) come back from
// Fetch with their code unchanged.
func New(cfg Config, client *http.Client, store fulltext.ArtifactStore) *Downloader {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg = cfg.withDefaults()
	if cfg.Verify.Clock == nil {
		cfg.Verify.Clock = cfg.Clock
	}
	return &Downloader{cfg: cfg, client: &c, store: store, check: verify.New(cfg.Verify)}
}

// Hooks let the caller act between the steps of a download. They are called
// in order, from the goroutine running Fetch; an error from a hook aborts the
// download (nothing is kept) and Fetch returns it unchanged, so a fencing
// error (fulltext.ErrLeaseLost) stops the transfer.
type Hooks struct {
	// Headers is called after the headers of the final, successful (2xx)
	// response, before any body byte is read.
	Headers func(status int, h http.Header) error
	// Stream is called before the first body byte is written to the temp
	// artifact. It is not called for a page returned in Fetched.Page.
	Stream func() error
}

// Fetched is a successful download, not yet committed.
type Fetched struct {
	// Kind is what the bytes are (sniffed): pdf, xml, or html for a page.
	Kind     fulltext.Kind
	FinalURL string
	Status   int
	Header   http.Header
	// Hops are the URLs requested, the candidate's first, FinalURL last.
	Hops []string
	// Page is set (and Temp nil) when the response is an HTML or text page,
	// which is not accepted as a full text here: the caller analyses it as a
	// landing page or decides to keep it as an ok-html full text (Commit).
	Page []byte
	// PageCut reports that the page was longer than MaxPageBytes and Page
	// holds only its beginning; such a page cannot be committed.
	PageCut bool
	// Temp is the streamed, validated body (pdf, xml), not yet committed.
	Temp fulltext.TempArtifact
	// SHA256 (hex) and Bytes describe Temp's or Page's content.
	SHA256 string
	Bytes  int64
	// Encrypted flags a PDF whose trailer names an /Encrypt dictionary
	// (stored all the same; readers may need a password).
	Encrypted bool
	// NotModified is set by Refetch on 304: nothing was downloaded.
	NotModified bool

	lease fulltext.Lease
	kept  keep
}

// Abort drops the temp artifact of f, if any. Call it when f is not
// committed (the wrong-work check failed, the job lost its lease). Safe to
// call after Commit and more than once.
func (f *Fetched) Abort() error {
	if f == nil || f.Temp == nil {
		return nil
	}
	return f.Temp.Abort()
}

// Commit stores f under fulltext.ArtifactPath(id, f.Kind). A page
// (f.Page) is written to a new temp first; a cut page is too-large. Store
// failures are store-error; the temp is aborted on every error.
func (d *Downloader) Commit(ctx context.Context, f *Fetched, id fulltext.WorkID) (fulltext.Artifact, error) {
	tmp := f.Temp
	if tmp == nil {
		switch {
		case f.Page == nil:
			return fulltext.Artifact{}, fulltext.Errorf(fulltext.CodeInternal, "download: commit: nothing fetched")
		case f.PageCut:
			return fulltext.Artifact{}, fulltext.Errorf(fulltext.CodeTooLarge, "download: commit: page over %d bytes", d.cfg.MaxPageBytes)
		}
		var err error
		if tmp, err = d.store.Create(ctx, f.lease); err != nil {
			return fulltext.Artifact{}, &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: commit: %w", err)}
		}
		if _, err := tmp.Write(f.Page); err != nil {
			_ = tmp.Abort()
			return fulltext.Artifact{}, &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: commit: %w", err)}
		}
	}
	a, err := d.store.Commit(ctx, tmp, fulltext.ArtifactName{Path: fulltext.ArtifactPath(id, f.Kind), SHA256: f.SHA256, Kind: f.Kind})
	if err != nil {
		_ = tmp.Abort()
		return fulltext.Artifact{}, &fulltext.Error{Code: fulltext.CodeStoreError, Err: fmt.Errorf("download: commit: %w", err)}
	}
	return a, nil
}

// errStall is the cancellation cause when no byte arrived for StallTimeout.
var errStall = errors.New("stalled")

// watchdog cancels a download when it is not kicked for a while.
type watchdog struct {
	t *time.Timer
	d time.Duration
}

func newWatchdog(d time.Duration, cancel context.CancelCauseFunc) *watchdog {
	return &watchdog{t: time.AfterFunc(d, func() { cancel(errStall) }), d: d}
}

func (w *watchdog) kick() { w.t.Reset(w.d) }
func (w *watchdog) stop() { w.t.Stop() }
