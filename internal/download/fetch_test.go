package download_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	lease  = fulltext.Lease{JobID: 3, Epoch: 1, Owner: "t"}
	workID = fulltext.WorkID{Kind: fulltext.KindDOI, Value: "10.5555/jsim.2021.0042"}
)

type bundle struct {
	srv   *httptest.Server
	store *filestore.Store
	d     *download.Downloader

	mu      sync.Mutex
	headers map[string]http.Header // request headers by path
}

// setup starts a loopback server (TLS when tls is set) with the given
// routes and returns a Downloader storing into a fresh filestore.
func setup(t *testing.T, routes map[string]http.HandlerFunc, cfg download.Config, tls bool, opts filestore.Options) *bundle {
	t.Helper()
	b := &bundle{headers: map[string]http.Header{}}
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			b.mu.Lock()
			b.headers[r.URL.Path] = r.Header.Clone()
			b.mu.Unlock()
			h(w, r)
		})
	}
	if tls {
		b.srv = httptest.NewTLSServer(mux)
	} else {
		b.srv = httptest.NewServer(mux)
	}
	t.Cleanup(b.srv.Close)
	st, err := filestore.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b.store = st
	b.d = download.New(cfg, b.srv.Client(), st)
	return b
}

func (b *bundle) header(p string) http.Header {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.headers[p]
}

func (b *bundle) fetch(t *testing.T, path string, kind fulltext.Kind) (*download.Fetched, error) {
	t.Helper()
	return b.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: b.srv.URL + path, Kind: kind, Source: "test"}, download.Hooks{})
}

// assertClean checks that nothing was left in the store.
func (b *bundle) assertClean(t *testing.T) {
	t.Helper()
	temps, err := b.store.Temps(t.Context())
	if err != nil || len(temps) != 0 {
		t.Fatalf("temps left: %v, %v", temps, err)
	}
	err = b.store.Walk(t.Context(), func(p string, _ int64) error { return fmt.Errorf("file %s stored", p) })
	if err != nil {
		t.Fatal(err)
	}
}

func serve(ct string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
}

func redirect(status int, to string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", to)
		w.WriteHeader(status)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFetchPDF(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			t.Parallel()
			pdf := makePDF(300_000)
			b := setup(t, map[string]http.HandlerFunc{"/x.pdf": serve("application/pdf", pdf)}, download.Config{}, tls, filestore.Options{})
			var calls []string
			hooks := download.Hooks{
				Headers: func(status int, h http.Header) error {
					calls = append(calls, fmt.Sprintf("headers %d %s", status, h.Get("Content-Type")))
					return nil
				},
				Stream: func() error { calls = append(calls, "stream"); return nil },
			}
			f, err := b.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: b.srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, hooks)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if want := []string{"headers 200 application/pdf", "stream"}; !slices.Equal(calls, want) {
				t.Fatalf("hooks = %q, want %q", calls, want)
			}
			if f.Kind != fulltext.KindPDF || f.SHA256 != sha(pdf) || f.Bytes != int64(len(pdf)) || f.Page != nil || f.Temp == nil {
				t.Fatalf("Fetched = kind %q sha %s bytes %d page %d", f.Kind, f.SHA256, f.Bytes, len(f.Page))
			}
			if f.Status != 200 || f.FinalURL != b.srv.URL+"/x.pdf" || len(f.Hops) != 1 {
				t.Fatalf("Fetched = status %d url %s hops %v", f.Status, f.FinalURL, f.Hops)
			}
			a, err := b.d.Commit(t.Context(), f, workID)
			if err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if a.Path != "pdf/10.5555_jsim.2021.0042.pdf" || a.SHA256 != sha(pdf) || a.Existing {
				t.Fatalf("Artifact = %+v", a)
			}
			rc, err := b.store.Open(t.Context(), a.Path)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, pdf) {
				t.Fatal("stored bytes differ")
			}
			if err := f.Abort(); err != nil {
				t.Fatalf("Abort after Commit: %v", err)
			}
		})
	}
}

func TestFetchXML(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]http.HandlerFunc{
		"/ok.xml":  serve("application/xml", []byte(jatsDoc)),
		"/bad.xml": serve("application/xml", []byte(`<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>`)),
		"/cut.xml": serve("text/xml", []byte(jatsDoc[:300])),
	}, download.Config{}, false, filestore.Options{})
	f, err := b.fetch(t, "/ok.xml", fulltext.KindXML)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if f.Kind != fulltext.KindXML || f.SHA256 != sha([]byte(jatsDoc)) {
		t.Fatalf("Fetched kind %q sha %s", f.Kind, f.SHA256)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/bad.xml", "/cut.xml"} {
		_, err := b.fetch(t, p, fulltext.KindXML)
		if got := fulltext.CodeOf(err); got != fulltext.CodeWrongType {
			t.Fatalf("%s: %v, want wrong-type", p, err)
		}
	}
	b.assertClean(t)
}

func TestFetchPage(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("<p>filler</p>\n"), 10_000)
	b := setup(t, map[string]http.HandlerFunc{
		"/landing": serve("text/html; charset=utf-8", []byte(landingHTML)),
		"/big":     serve("text/html", append([]byte("<!DOCTYPE html><html><body>"), big...)),
	}, download.Config{MaxPageBytes: 64 << 10}, false, filestore.Options{})
	var streamed bool
	f, err := b.d.Fetch(t.Context(), lease, fulltext.Candidate{URL: b.srv.URL + "/landing", Kind: fulltext.KindPDF},
		download.Hooks{Stream: func() error { streamed = true; return nil }})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if f.Kind != fulltext.KindHTML || string(f.Page) != landingHTML || f.Temp != nil || f.PageCut || streamed {
		t.Fatalf("Fetched kind %q page %d bytes temp %v cut %v streamed %v", f.Kind, len(f.Page), f.Temp, f.PageCut, streamed)
	}
	b.assertClean(t)
	// The caller may keep a page as an ok-html full text.
	a, err := b.d.Commit(t.Context(), f, workID)
	if err != nil || a.Path != "html/10.5555_jsim.2021.0042.html" || a.SHA256 != sha([]byte(landingHTML)) {
		t.Fatalf("Commit page = %+v, %v", a, err)
	}

	f, err = b.fetch(t, "/big", fulltext.KindHTML)
	if err != nil {
		t.Fatalf("Fetch big: %v", err)
	}
	if !f.PageCut || len(f.Page) != 64<<10 {
		t.Fatalf("big page: cut %v, %d bytes", f.PageCut, len(f.Page))
	}
	if _, err := b.d.Commit(t.Context(), f, workID); fulltext.CodeOf(err) != fulltext.CodeTooLarge {
		t.Fatalf("Commit of a cut page = %v, want too-large", err)
	}
}

func TestFetchStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)
	status := func(code int, h map[string]string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			for k, v := range h {
				w.Header().Set(k, v)
			}
			w.WriteHeader(code)
		}
	}
	b := setup(t, map[string]http.HandlerFunc{
		"/404":      status(404, nil),
		"/410":      status(410, nil),
		"/401":      status(401, nil),
		"/403":      status(403, nil),
		"/429":      status(429, map[string]string{"Retry-After": "120"}),
		"/429date":  status(429, map[string]string{"Retry-After": "Sat, 28 Nov 2026 20:00:30 GMT"}),
		"/429none":  status(429, nil),
		"/500":      status(500, nil),
		"/503":      status(503, map[string]string{"Retry-After": "7"}),
		"/204":      status(204, nil),
		"/400":      status(400, nil),
		"/empty":    serve("application/pdf", nil),
		"/headonly": serve("application/pdf", nil),
	}, download.Config{Clock: fulltext.NewStubClock(now)}, false, filestore.Options{})
	tests := []struct {
		path  string
		code  fulltext.Code
		after time.Duration
	}{
		{"/404", fulltext.CodeNotFound, 0},
		{"/410", fulltext.CodeNotFound, 0},
		{"/401", fulltext.CodeBlockedForbidden, 0},
		{"/403", fulltext.CodeBlockedForbidden, 0},
		{"/429", fulltext.CodeRateLimited, 120 * time.Second},
		{"/429date", fulltext.CodeRateLimited, 30 * time.Second},
		{"/429none", fulltext.CodeRateLimited, 0},
		{"/500", fulltext.CodeServerError, 0},
		{"/503", fulltext.CodeServerError, 7 * time.Second},
		{"/204", fulltext.CodeEmptyBody, 0},
		{"/400", fulltext.CodeNotFound, 0},
		{"/empty", fulltext.CodeEmptyBody, 0},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.path, func(t *testing.T) {
				t.Parallel()
				_, err := b.fetch(t, tc.path, fulltext.KindPDF)
				var fe *fulltext.Error
				if !errors.As(err, &fe) || fe.Code != tc.code || fe.RetryAfter != tc.after {
					t.Fatalf("Fetch = %v, want %s with RetryAfter %v", err, tc.code, tc.after)
				}
			})
		}
	})
	b.assertClean(t)
}

func TestFetchInvalidBodies(t *testing.T) {
	t.Parallel()
	pdf := makePDF(20_000)
	b := setup(t, map[string]http.HandlerFunc{
		"/html-as-pdf": serve("application/pdf", []byte(landingHTML)),
		"/js-as-pdf":   serve("application/pdf", []byte("<script>window.location='/login'</script>")),
		"/plain-js":    serve("application/pdf", []byte("window.location.href='/login?next=/x.pdf';")),
		"/png":         serve("image/png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRxxxxxxxx")),
		"/tiny.pdf":    serve("application/pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")),
		"/trunc.pdf":   serve("application/pdf", pdf[:15_000]),
		"/broken.pdf":  serve("application/pdf", append([]byte("%PDF-?\n"), pdf[9:]...)),
		"/garbage.pdf": serve("application/pdf", append(append([]byte{}, pdf...), bytes.Repeat([]byte{0}, 1000)...)),
	}, download.Config{}, false, filestore.Options{})
	for path, code := range map[string]fulltext.Code{
		"/html-as-pdf": fulltext.CodeWrongType,
		"/js-as-pdf":   fulltext.CodeWrongType,
		"/plain-js":    fulltext.CodeWrongType,
		"/png":         fulltext.CodeWrongType,
		"/tiny.pdf":    fulltext.CodeTooSmall,
		"/trunc.pdf":   fulltext.CodePDFCorrupt,
		"/broken.pdf":  fulltext.CodePDFCorrupt,
	} {
		if _, err := b.fetch(t, path, fulltext.KindPDF); fulltext.CodeOf(err) != code {
			t.Errorf("%s: %v, want %s", path, err, code)
		}
	}
	b.assertClean(t)
	f, err := b.fetch(t, "/garbage.pdf", fulltext.KindPDF)
	if err != nil {
		t.Fatalf("pdf with trailing NULs: %v", err)
	}
	_ = f.Abort()
}

// hijack answers with raw bytes written to the connection, then closes it.
func hijack(raw []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = buf.Write(raw)
		_ = buf.Flush()
	}
}

func TestFetchLengths(t *testing.T) {
	t.Parallel()
	pdf := makePDF(40_000)
	head := func(cl int) []byte {
		return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", cl)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(pdf)
	_ = zw.Close()
	var bomb bytes.Buffer
	zw = gzip.NewWriter(&bomb)
	_, _ = zw.Write([]byte("%PDF-1.7\n"))
	zeros := make([]byte, 1<<20)
	for range 8 {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	gzipped := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(body)
		}
	}
	chunked := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			for chunk := range slices.Chunk(body, 8<<10) {
				_, _ = w.Write(chunk)
				_ = http.NewResponseController(w).Flush()
			}
		}
	}
	b := setup(t, map[string]http.HandlerFunc{
		"/cl-longer":  hijack(append(head(len(pdf)+5000), pdf...)),
		"/cl-shorter": hijack(append(head(len(pdf)-5000), pdf...)),
		"/cut-chunk":  hijack([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n%PDF-1.7\n")),
		"/gzip":       gzipped(gz.Bytes()),
		"/bomb":       gzipped(bomb.Bytes()),
		"/big-cl":     serve("application/pdf", makePDF(200_000)),
		"/big-chunk":  chunked(makePDF(200_000)),
		"/ok-chunk":   chunked(pdf),
	}, download.Config{MaxBodyBytes: 100_000}, false, filestore.Options{})
	for path, code := range map[string]fulltext.Code{
		"/cl-longer":  fulltext.CodeTruncated,
		"/cl-shorter": fulltext.CodePDFCorrupt, // the transport stops at Content-Length: the cut PDF has no %%EOF
		"/cut-chunk":  fulltext.CodeTruncated,
		"/bomb":       fulltext.CodeTooLarge,
		"/big-cl":     fulltext.CodeTooLarge,
		"/big-chunk":  fulltext.CodeTooLarge,
	} {
		if _, err := b.fetch(t, path, fulltext.KindPDF); fulltext.CodeOf(err) != code {
			t.Errorf("%s: %v, want %s", path, err, code)
		}
	}
	b.assertClean(t)
	for _, p := range []string{"/gzip", "/ok-chunk"} {
		f, err := b.fetch(t, p, fulltext.KindPDF)
		if err != nil || f.SHA256 != sha(pdf) || f.Bytes != int64(len(pdf)) {
			t.Fatalf("%s: %v", p, err)
		}
		_ = f.Abort()
	}
}

func TestFetchStall(t *testing.T) {
	t.Parallel()
	pdf := makePDF(20_000)
	b := setup(t, map[string]http.HandlerFunc{
		"/stall-body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
			_, _ = w.Write(pdf[:5000])
			_ = http.NewResponseController(w).Flush()
			<-r.Context().Done() // until the client gives up
		},
		"/stall-headers": func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
	}, download.Config{StallTimeout: 200 * time.Millisecond}, false, filestore.Options{})
	for _, p := range []string{"/stall-body", "/stall-headers"} {
		start := time.Now()
		_, err := b.fetch(t, p, fulltext.KindPDF)
		if fulltext.CodeOf(err) != fulltext.CodeTimeout {
			t.Fatalf("%s: %v, want timeout", p, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: gave up after %v", p, d)
		}
	}
	b.assertClean(t)

	// The caller's deadline is a timeout too; its cancellation is not an outcome.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := b.d.Fetch(ctx, lease, fulltext.Candidate{URL: b.srv.URL + "/stall-headers"}, download.Hooks{})
	if fulltext.CodeOf(err) != fulltext.CodeTimeout {
		t.Fatalf("deadline: %v, want timeout", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = b.d.Fetch(ctx, lease, fulltext.Candidate{URL: b.srv.URL + "/stall-headers"}, download.Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
}

func TestFetchNetworkError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	st, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	d := download.New(download.Config{}, &http.Client{Transport: tr}, st)
	_, err = d.Fetch(t.Context(), lease, fulltext.Candidate{URL: "http://" + addr + "/x.pdf"}, download.Hooks{})
	if fulltext.CodeOf(err) != fulltext.CodeNetworkError {
		t.Fatalf("refused: %v, want network-error", err)
	}
	for _, bad := range []string{"", "ftp://x/y", "http://", "::nope"} {
		if _, err := d.Fetch(t.Context(), lease, fulltext.Candidate{URL: bad}, download.Hooks{}); fulltext.CodeOf(err) != fulltext.CodeResolverError {
			t.Errorf("url %q: %v, want resolver-error", bad, err)
		}
	}
}

func TestHooksAbort(t *testing.T) {
	t.Parallel()
	pdf := makePDF(50_000)
	b := setup(t, map[string]http.HandlerFunc{"/x.pdf": serve("application/pdf", pdf)}, download.Config{}, false, filestore.Options{})
	c := fulltext.Candidate{URL: b.srv.URL + "/x.pdf", Kind: fulltext.KindPDF}
	for name, hooks := range map[string]download.Hooks{
		"headers": {Headers: func(int, http.Header) error { return fulltext.ErrLeaseLost }},
		"stream":  {Stream: func() error { return fulltext.ErrLeaseLost }},
	} {
		if _, err := b.d.Fetch(t.Context(), lease, c, hooks); !errors.Is(err, fulltext.ErrLeaseLost) {
			t.Fatalf("%s hook: %v, want ErrLeaseLost", name, err)
		}
	}
	b.assertClean(t)
}

// TestStoreFailure: a disk that fills up mid-stream fails the download with
// store-error and leaves no temp.
func TestStoreFailure(t *testing.T) {
	t.Parallel()
	pdf := makePDF(200_000)
	var writes sync.Map
	faults := &filestore.Faults{Write: func(name string) error {
		n, _ := writes.LoadOrStore(name, new(int))
		*n.(*int)++
		if *n.(*int) > 3 {
			return syscall.ENOSPC
		}
		return nil
	}}
	b := setup(t, map[string]http.HandlerFunc{"/x.pdf": serve("application/pdf", pdf)}, download.Config{}, false, filestore.Options{Faults: faults})
	_, err := b.fetch(t, "/x.pdf", fulltext.KindPDF)
	if fulltext.CodeOf(err) != fulltext.CodeStoreError || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Fetch = %v, want store-error wrapping ENOSPC", err)
	}
	b.assertClean(t)
}

// TestConcurrentFetches: one Downloader, several goroutines, the same PDF:
// stored once, every work's path opens it.
func TestConcurrentFetches(t *testing.T) {
	t.Parallel()
	pdf := makePDF(30_000)
	b := setup(t, map[string]http.HandlerFunc{"/x.pdf": serve("application/pdf", pdf)}, download.Config{}, false, filestore.Options{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			l := fulltext.Lease{JobID: int64(i + 1), Epoch: 1}
			f, err := b.d.Fetch(t.Context(), l, fulltext.Candidate{URL: b.srv.URL + "/x.pdf", Kind: fulltext.KindPDF}, download.Hooks{})
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = b.d.Commit(t.Context(), f, fulltext.WorkID{Kind: fulltext.KindDOI, Value: fmt.Sprintf("10.5555/w%d", i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	n := 0
	err := b.store.Walk(t.Context(), func(p string, size int64) error {
		n++
		if size != int64(len(pdf)) {
			return fmt.Errorf("%s: %d bytes", p, size)
		}
		return nil
	})
	if err != nil || n != 4 {
		t.Fatalf("Walk: %d paths, %v", n, err)
	}
}

func TestFetchWallPage(t *testing.T) {
	t.Parallel()
	wall := func(code int, h map[string]string, ct string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			for k, v := range h {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(code)
			_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>checking your browser</body></html>"))
		}
	}
	b := setup(t, map[string]http.HandlerFunc{
		"/challenge": wall(403, map[string]string{"Cf-Mitigated": "challenge"}, "text/html; charset=UTF-8"),
		"/shield503": wall(503, map[string]string{"Cf-Mitigated": "challenge"}, "text/html"),
		"/login":     wall(401, nil, "text/html"),
		"/plain503":  wall(503, nil, "text/html"),
		"/403text":   wall(403, nil, "text/plain"),
	}, download.Config{}, false, filestore.Options{})
	for _, p := range []string{"/challenge", "/shield503", "/login"} {
		f, err := b.fetch(t, p, fulltext.KindPDF)
		if err != nil {
			t.Errorf("%s: %v, want the page for analysis", p, err)
			continue
		}
		if f.Temp != nil || !bytes.Contains(f.Page, []byte("Just a moment")) || f.Status < 400 || f.Kind != fulltext.KindHTML {
			t.Errorf("%s: fetched %+v", p, f)
		}
	}
	for p, want := range map[string]fulltext.Code{"/plain503": fulltext.CodeServerError, "/403text": fulltext.CodeBlockedForbidden} {
		if _, err := b.fetch(t, p, fulltext.KindPDF); fulltext.CodeOf(err) != want {
			t.Errorf("%s: %v, want %s", p, err, want)
		}
	}
	b.assertClean(t)
}
