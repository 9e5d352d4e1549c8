package simweb

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestFaultRateLimitAndServerError(t *testing.T) {
	t.Parallel()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	s, c := setup(t, Config{Clock: clock, Faults: []Fault{
		{Host: "api.openalex.org", Kind: FaultRateLimit, RetryAfter: 7 * time.Second, Times: 1},
		{Host: "api.openalex.org", Kind: FaultRateLimit, RetryAfter: 90 * time.Second, RetryAfterDate: true, Times: 1},
		{Host: "api.openalex.org", Kind: FaultRateLimit, Times: 1},
		{Host: "api.openalex.org", Kind: FaultServerError, Status: 502, Times: 1},
		{Host: "api.openalex.org", Kind: FaultRateLimit, Body: SampleBody("openalex_429.json"), Times: 1},
	}})
	u := "https://api.openalex.org/works/W9990000001"
	r := get(t, c, u)
	if r.status != 429 || r.header.Get("Retry-After") != "7" {
		t.Errorf("first: %d %q", r.status, r.header.Get("Retry-After"))
	}
	r = get(t, c, u)
	if want := clock.Now().Add(90 * time.Second).Format(http.TimeFormat); r.status != 429 || r.header.Get("Retry-After") != want {
		t.Errorf("second: %d %q want %q", r.status, r.header.Get("Retry-After"), want)
	}
	r = get(t, c, u)
	if r.status != 429 || r.header.Get("Retry-After") != "" {
		t.Errorf("third: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if r = get(t, c, u); r.status != 502 {
		t.Errorf("fourth: %d", r.status)
	}
	if r = get(t, c, u); r.status != 429 || r.header.Get("Content-Type") != "application/json" || !strings.Contains(string(r.body), "Daily usage allowance") {
		t.Errorf("fifth: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r = get(t, c, u); r.status != 200 {
		t.Errorf("after the faults: %d", r.status)
	}
	// Other hosts were never affected.
	if r = get(t, c, "https://doi.org/10.5555/jsim.2021.0042"); r.status != 302 {
		t.Errorf("doi.org: %d", r.status)
	}
	// SetFaults replaces the list.
	s.SetFaults([]Fault{{Kind: FaultServerError}})
	if r = get(t, c, "https://doi.org/10.5555/jsim.2021.0042"); r.status != 503 {
		t.Errorf("global fault: %d", r.status)
	}
}

// do returns the transport error or the body read error of one request.
func do(t *testing.T, c *http.Client, ctx context.Context, u string) (int, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func TestFaultsOnTheWire(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	wk := firstOf(t, s.World(), RouteLanding)
	pdfURL := wk.publisherPDFURL()
	full := wk.PDF()
	host := wk.publisherHost()

	s.SetFaults([]Fault{{Host: host, Kind: FaultReset, Times: 1}})
	if _, _, err := do(t, c, t.Context(), pdfURL); err == nil {
		t.Error("reset: no error")
	}

	s.SetFaults([]Fault{{Host: host, Kind: FaultTruncate, Bytes: 1000, Times: 1}})
	_, b, err := do(t, c, t.Context(), pdfURL)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1000 {
		t.Errorf("truncate: %d bytes, %v", len(b), err)
	}

	s.SetFaults([]Fault{{Host: host, Kind: FaultWrongLength, Bytes: 500, Times: 1}})
	status, b, err := do(t, c, t.Context(), pdfURL)
	if err != nil || status != 200 || len(b) != len(full)-500 {
		t.Errorf("wrong length: %d, %d bytes of %d, %v", status, len(b), len(full), err)
	}

	s.SetFaults([]Fault{{Host: host, Kind: FaultDrip, Bytes: 8 << 10, Delay: time.Millisecond, Times: 1}})
	status, b, err = do(t, c, t.Context(), pdfURL)
	if err != nil || status != 200 || string(b) != string(full) {
		t.Errorf("drip: %d, %d bytes, %v", status, len(b), err)
	}

	s.SetFaults([]Fault{{Host: host, Kind: FaultStall, Bytes: 100, Times: 1}})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, pdfURL, nil)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 100)
	if _, err := io.ReadFull(res.Body, head); err != nil || string(head) != string(full[:100]) {
		t.Errorf("stall: first bytes %v", err)
	}
	if res.Header.Get("Content-Length") != strconv.Itoa(len(full)) {
		t.Errorf("stall: content length %q", res.Header.Get("Content-Length"))
	}
	cancel() // the client gives up; the server must release the handler
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Error("stall: body completed")
	}
	res.Body.Close()

	s.SetFaults([]Fault{{Host: host, Kind: FaultHuge, Bytes: 3 << 20, Times: 1}})
	status, b, err = do(t, c, t.Context(), pdfURL)
	if err != nil || status != 200 || len(b) != 3<<20 || !strings.HasPrefix(string(b), "%PDF-1.4\n") || b[len(b)-1] != 0 {
		t.Errorf("huge: %d, %d bytes, %v", status, len(b), err)
	}

	// After the faults the file is whole again, with Range support.
	r := get(t, c, pdfURL, "Range", "bytes=10-19")
	if r.status != http.StatusPartialContent || string(r.body) != string(full[10:20]) {
		t.Errorf("range: %d %q", r.status, r.body)
	}
}

func TestStartStopsWithContext(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Works: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.Start(ctx, "127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, "127.0.0.1:0", ""); err == nil {
		t.Error("second Start succeeded")
	}
	if got := s.ConnectTo(); len(got) != 1 || !strings.HasPrefix(got[0], ":80:127.0.0.1:") {
		t.Errorf("ConnectTo = %q", got)
	}
	cancel()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server still running after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Start(t.Context(), "127.0.0.1:0", ""); err == nil {
		t.Error("Start after Close succeeded")
	}
}
