// Package metacache keeps API answers (metadata, never full texts) on disk
// so that a retry or a re-run of unfinished works does not ask the APIs
// again.
//
// It is an http.RoundTripper wrapper for the API client only. Only GET
// requests answered 200 are stored, keyed by method, URL and Accept, with
// credentials (api_key, mailto, email, …) taken out of the key. An answer
// is fresh for its Cache-Control max-age (RFC 9111: minus Age; or Expires −
// Date) when the API sends one, for Config.TTL otherwise; no-store and
// no-cache answers are not kept. The directory is bounded by
// Config.MaxBytes: the oldest entries go first. Entries are written to a
// temporary file and renamed, so several processes may share a directory.
package metacache

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Config configures a Cache.
type Config struct {
	// Dir holds the entries; it is created if needed. Required.
	Dir string
	// TTL is how long an answer without cache headers stays fresh.
	// Defaults to 7 days.
	TTL time.Duration
	// MaxBytes bounds the directory; past it the oldest entries are
	// removed until it is 90% full. Defaults to 256 MiB.
	MaxBytes int64
	// MaxEntryBytes is the largest answer kept; larger ones pass through.
	// Defaults to 8 MiB.
	MaxEntryBytes int64
	// Refresh bypasses the stored answers (--refresh-metadata): every
	// request goes to the API, and fresh answers replace the stored ones.
	Refresh bool
	// Clock decides freshness. Defaults to fulltext.SystemClock.
	Clock fulltext.Clock
}

func (c Config) withDefaults() Config {
	c.TTL = cmp.Or(c.TTL, 7*24*time.Hour)
	c.MaxBytes = cmp.Or(c.MaxBytes, 256<<20)
	c.MaxEntryBytes = cmp.Or(c.MaxEntryBytes, 8<<20)
	if c.Clock == nil {
		c.Clock = fulltext.SystemClock{}
	}
	return c
}

// HitHeader is set on answers served from the cache ("hit").
const HitHeader = "X-Oafetch-Metacache"

// Stats counts what the cache did since New.
type Stats struct {
	Hits, Misses, Stores, Evictions int64
}

// Cache is an on-disk cache of API answers. Safe for concurrent use.
type Cache struct {
	cfg Config

	hits, misses, stores, evictions atomic.Int64

	dirs sync.Map // the fan-out directories known to exist

	mu   sync.Mutex
	size int64 // bytes on disk; -1 until the directory is scanned
}

// New opens (creating) the cache directory.
func New(cfg Config) (*Cache, error) {
	cfg = cfg.withDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("metacache: new: no directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("metacache: new: %w", err)
	}
	return &Cache{cfg: cfg, size: -1}, nil
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), Evictions: c.evictions.Load()}
}

// Wrap returns a RoundTripper that answers cacheable requests from the
// cache when it can and stores what next answers.
func (c *Cache) Wrap(next http.RoundTripper) http.RoundTripper {
	return &transport{c: c, next: next}
}

type transport struct {
	c    *Cache
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !cacheableRequest(req) {
		return t.next.RoundTrip(req)
	}
	key := Key(req)
	if !t.c.cfg.Refresh {
		if resp, ok := t.c.load(key, req); ok {
			t.c.hits.Add(1)
			return resp, nil
		}
	}
	t.c.misses.Add(1)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ttl, ok := t.c.lifetime(resp)
	if !ok {
		return resp, nil
	}
	return t.c.keep(key, resp, ttl), nil
}

func cacheableRequest(req *http.Request) bool {
	if req.Method != http.MethodGet && req.Method != "" {
		return false
	}
	if req.Header.Get("Range") != "" {
		return false
	}
	cc := directives(req.Header.Values("Cache-Control"))
	_, noStore := cc["no-store"]
	return !noStore
}

// credentialParams are query parameters that identify the caller, never
// the answer; they stay out of keys (and so out of the directory).
var credentialParams = []string{"api_key", "apikey", "key", "mailto", "email", "token", "access_token", "password", "tool"}

// Key is the cache key of req: the method, the URL without credentials,
// user info or fragment, its query parameters sorted, and the Accept
// header.
func Key(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	q := u.Query()
	for k := range q {
		if slices.Contains(credentialParams, strings.ToLower(k)) {
			delete(q, k)
		}
	}
	u.RawQuery = q.Encode()
	return cmp.Or(req.Method, http.MethodGet) + " " + u.String() + "\nAccept: " + req.Header.Get("Accept")
}

// lifetime is how long resp stays fresh; ok is false when it must not be
// stored.
func (c *Cache) lifetime(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Vary") == "*" {
		return 0, false
	}
	cc := directives(resp.Header.Values("Cache-Control"))
	for _, d := range []string{"no-store", "no-cache"} {
		if _, ok := cc[d]; ok {
			return 0, false
		}
	}
	age := time.Duration(0)
	if n, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Age")), 10, 64); err == nil && n > 0 {
		age = time.Duration(n) * time.Second
	}
	if v, ok := cc["max-age"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, false
		}
		d := time.Duration(min(n, 1<<32))*time.Second - age
		return d, d > 0
	}
	if exp := resp.Header.Get("Expires"); exp != "" {
		e, err := http.ParseTime(exp)
		if err != nil {
			return 0, false // an invalid Expires means already expired
		}
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			date = c.cfg.Clock.Now()
		}
		d := e.Sub(date) - age
		return d, d > 0
	}
	return c.cfg.TTL, true
}

// directives parses Cache-Control values into lower-case names → values.
func directives(values []string) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				out[name] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return out
}

// droppedHeaders are not stored: they describe one exchange, not the
// answer (a stale X-RateLimit-Remaining would stop a query for nothing).
var droppedHeaders = []string{"Set-Cookie", "Age", "Date", "Connection", "Keep-Alive", "Transfer-Encoding",
	"Retry-After", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"}

// entryHead is the first line of an entry file; the body follows.
type entryHead struct {
	Key     string      `json:"key"`
	Header  http.Header `json:"header"`
	Stored  time.Time   `json:"stored"`
	Expires time.Time   `json:"expires"`
}

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(c.cfg.Dir, name[:2], name+".entry")
}

// load returns the fresh stored answer to req, if any.
func (c *Cache) load(key string, req *http.Request) (*http.Response, bool) {
	p := c.path(key)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	line, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, false
	}
	var h entryHead
	if json.Unmarshal(line, &h) != nil || h.Key != key {
		return nil, false
	}
	if !c.cfg.Clock.Now().Before(h.Expires) {
		c.remove(p, int64(len(data)))
		return nil, false
	}
	header := h.Header
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set(HitHeader, "hit")
	header.Set("Age", strconv.Itoa(int(c.cfg.Clock.Now().Sub(h.Stored).Seconds())))
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, true
}

// keep reads resp's body and stores it when it arrived whole and small
// enough; the caller gets a response that reads the same bytes (and the
// same error, if the body failed).
func (c *Cache) keep(key string, resp *http.Response, ttl time.Duration) *http.Response {
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxEntryBytes+1))
	switch {
	case err != nil:
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return resp
	case int64(len(body)) > c.cfg.MaxEntryBytes:
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(body)) {
		return resp
	}
	header := resp.Header.Clone()
	for _, h := range droppedHeaders {
		header.Del(h)
	}
	now := c.cfg.Clock.Now()
	c.store(key, entryHead{Key: key, Header: header, Stored: now, Expires: now.Add(ttl)}, body)
	return resp
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// store writes one entry (a failure only costs the cache) and evicts.
func (c *Cache) store(key string, h entryHead, body []byte) {
	line, err := json.Marshal(h)
	if err != nil {
		return
	}
	p := c.path(key)
	dir := filepath.Dir(p)
	if _, made := c.dirs.Load(dir); !made {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		c.dirs.Store(dir, true)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	w := bufio.NewWriter(f)
	_, _ = w.Write(line)
	_ = w.WriteByte('\n')
	_, _ = w.Write(body)
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return
	}
	old, _ := os.Stat(p)
	if err := os.Rename(f.Name(), p); err != nil {
		_ = os.Remove(f.Name())
		return
	}
	c.stores.Add(1)
	grown := int64(len(line) + 1 + len(body))
	if old != nil {
		grown -= old.Size()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size < 0 {
		c.size = c.scan()
	} else {
		c.size += grown
	}
	if c.size > c.cfg.MaxBytes {
		c.evict()
	}
}

func (c *Cache) remove(p string, n int64) {
	if os.Remove(p) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size >= 0 {
		c.size -= n
	}
}

type entryFile struct {
	path string
	size int64
	mod  time.Time
}

func (c *Cache) entries() []entryFile {
	var out []entryFile
	_ = filepath.WalkDir(c.cfg.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".entry") {
			return nil
		}
		if info, err := d.Info(); err == nil {
			out = append(out, entryFile{path: p, size: info.Size(), mod: info.ModTime()})
		}
		return nil
	})
	return out
}

// scan sums the entries on disk. c.mu is held.
func (c *Cache) scan() int64 {
	var n int64
	for _, e := range c.entries() {
		n += e.size
	}
	return n
}

// evict removes the oldest entries until the directory is 90% of
// MaxBytes. c.mu is held.
func (c *Cache) evict() {
	es := c.entries()
	slices.SortFunc(es, func(a, b entryFile) int { return a.mod.Compare(b.mod) })
	var total int64
	for _, e := range es {
		total += e.size
	}
	target := c.cfg.MaxBytes / 10 * 9
	for _, e := range es {
		if total <= target {
			break
		}
		if os.Remove(e.path) == nil {
			total -= e.size
			c.evictions.Add(1)
		}
	}
	c.size = total
}

// String describes the cache for logs.
func (c *Cache) String() string {
	s := c.Stats()
	return fmt.Sprintf("metacache %s: %d hits, %d misses, %d stored, %d evicted", c.cfg.Dir, s.Hits, s.Misses, s.Stores, s.Evictions)
}
