package simweb

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup starts a simulator with a small world on loopback and returns it
// with a client that does not follow redirects.
func setup(t *testing.T, cfg Config) (*Server, *http.Client) {
	t.Helper()
	if cfg.Works == 0 {
		cfg.Works = 40
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(func() {
		c.CloseIdleConnections()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, c
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, c *http.Client, rawURL string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", rawURL, err)
	}
	return resp{res.StatusCode, res.Header, body}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
}

func checkPDF(t *testing.T, r resp) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("content type %q", ct)
	}
	if !bytes.HasPrefix(r.body, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(r.body), []byte("%%EOF")) {
		t.Errorf("not a PDF: %q … %q", r.body[:min(16, len(r.body))], r.body[max(0, len(r.body)-16):])
	}
}

func firstOf(t *testing.T, w *World, r Route) Work {
	t.Helper()
	for _, wk := range w.Works {
		if wk.Route == r {
			return wk
		}
	}
	t.Fatalf("no work on route %s", r)
	return Work{}
}

func TestWorldDeterministic(t *testing.T) {
	t.Parallel()
	a, b := NewWorld(Config{Works: 60, Seed: 7}), NewWorld(Config{Works: 60, Seed: 7})
	if len(a.Works) != 60 {
		t.Fatalf("%d works, want 60", len(a.Works))
	}
	for i, wk := range a.Works {
		if wk.Index() != i {
			t.Fatalf("work %d has index %d", i, wk.Index())
		}
	}
	for i := range a.Works {
		wa, wb := a.Works[i], b.Works[i]
		if wa.Title != wb.Title || wa.Route != wb.Route || wa.Input != wb.Input || wa.IDs != wb.IDs {
			t.Fatalf("work %d differs: %+v vs %+v", i, wa, wb)
		}
		if i < 25 && !bytes.Equal(wa.PDF(), wb.PDF()) {
			t.Fatalf("work %d: PDF bytes differ", i)
		}
	}
	c := NewWorld(Config{Works: 60, Seed: 8})
	same := 0
	for i := 3; i < 60; i++ {
		if a.Works[i].Title == c.Works[i].Title && a.Works[i].Route == c.Works[i].Route {
			same++
		}
	}
	if same == 57 {
		t.Error("seed does not change the world")
	}
	if a.Works[0].IDs.DOI != "10.5555/jsim.2021.0042" || a.Works[2].Want != fulltext.CodeOKPDF {
		t.Errorf("cast not in place: %+v", a.Works[:3])
	}
}

func TestWorldInputsParseAndRoutesCovered(t *testing.T) {
	t.Parallel()
	w := NewWorld(Config{Works: 3 + 10*len(generatedRoutes)})
	seen := map[Route]int{}
	for _, wk := range w.Works {
		seen[wk.Route]++
		id, err := fulltext.ParseID(wk.Input)
		if err != nil {
			t.Errorf("work %d input %q: %v", wk.n, wk.Input, err)
			continue
		}
		got, ok := w.Lookup(id.String())
		if !ok || got.n != wk.n {
			t.Errorf("input %q does not find work %d", wk.Input, wk.n)
		}
		if !wk.Want.Known() {
			t.Errorf("work %d: unknown code %q", wk.n, wk.Want)
		}
		if wk.Want.Outcome() == fulltext.OutcomeOK && wk.WantSource == "" {
			t.Errorf("work %d: ok without a source", wk.n)
		}
	}
	for _, r := range Routes() {
		if seen[r] < 10 {
			t.Errorf("route %s has %d works", r, seen[r])
		}
	}
}

func TestPDFStructure(t *testing.T) {
	t.Parallel()
	w := NewWorld(Config{Works: 30})
	for _, wk := range w.Works[3:] {
		pdf := wk.PDF()
		if n := len(pdf); n < 20<<10 || n > 130<<10 {
			t.Errorf("work %d: %d bytes", wk.n, n)
		}
		if !bytes.Contains(pdf, []byte(pdfString(wk.Title))) || !bytes.Contains(pdf, []byte(wk.identLine())) {
			t.Errorf("work %d: title or id missing", wk.n)
		}
		// startxref must point at the xref table.
		i := bytes.LastIndex(pdf, []byte("startxref\n"))
		tail := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(pdf[i+len("startxref\n"):])), "%%EOF"))
		off, err := strconv.Atoi(tail)
		if err != nil || off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte("xref\n")) {
			t.Errorf("work %d: startxref %d does not point at xref", wk.n, off)
			continue
		}
		// Every in-use xref entry points at its object.
		lines := strings.Split(string(pdf[off:]), "\n")
		var count int
		if _, err := fmt.Sscanf(lines[1], "0 %d", &count); err != nil {
			t.Fatalf("work %d: xref header %q", wk.n, lines[1])
		}
		for obj := 1; obj < count; obj++ {
			o, err := strconv.Atoi(strings.Fields(lines[2+obj])[0])
			if err != nil || !bytes.HasPrefix(pdf[o:], fmt.Appendf(nil, "%d 0 obj\n", obj)) {
				t.Errorf("work %d: xref entry %d → %d is not the object", wk.n, obj, o)
			}
		}
	}
}

func TestTLSNamesVerify(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, Config{})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CAPEM()) {
		t.Fatal("CAPEM is not PEM")
	}
	for _, host := range []string{"api.openalex.org", "doi.org", "journals.example.org", "repository.example.edu", "arxiv.org"} {
		conn, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: host, RootCAs: pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		if err := conn.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
		_ = conn.Close()
	}
	// A certificate for one name does not verify another.
	conn, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: "doi.org", RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.VerifyHostname("api.openalex.org"); err == nil {
		t.Error("doi.org certificate verified for api.openalex.org")
	}
	// Without the CA the handshake fails.
	if c, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: "doi.org", MinVersion: tls.VersionTLS12}); err == nil {
		_ = c.Close()
		t.Error("handshake succeeded without the simulator CA")
	}
	path := t.TempDir() + "/ca.pem"
	if err := s.WriteCA(path); err != nil {
		t.Fatal(err)
	}
	ct := s.ConnectTo()
	if len(ct) != 2 || !strings.HasPrefix(ct[0], ":443:127.0.0.1:") || !strings.HasPrefix(ct[1], ":80:127.0.0.1:") {
		t.Errorf("ConnectTo = %q", ct)
	}
}

func TestPlainHTTPAndRequestLog(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{})
	r := get(t, c, "http://api.openalex.org/works/W9990000001", "User-Agent", "simtest/1", "Range", "bytes=0-")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	q := reqs[0]
	if q.Host != "api.openalex.org" || q.Path != "/works/W9990000001" || q.Status != 200 || q.TLS ||
		q.BytesSent != int64(len(r.body)) || q.Header.Get("User-Agent") != "simtest/1" || q.Header.Get("Range") != "bytes=0-" {
		t.Errorf("logged %+v", q)
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
}

// TestGeneratedShapesMatchSamples checks that generated OpenAlex and
// Unpaywall records carry the fields of the reference samples.
func TestGeneratedShapesMatchSamples(t *testing.T) {
	t.Parallel()
	w := NewWorld(Config{Works: 40})
	keys := func(v any) []string {
		var out []string
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				out = append(out, k)
			}
		}
		return out
	}
	var up map[string]any
	mustJSON(t, sample("unpaywall_closed.json"), &up)
	gen := firstOf(t, w, RouteUnpaywall).unpaywallRecord()
	for _, k := range keys(up) {
		if _, ok := gen[k]; !ok {
			t.Errorf("unpaywall record lacks %q", k)
		}
	}
	var oa map[string]any
	mustJSON(t, sample("openalex_work.json"), &oa)
	rec := firstOf(t, w, RouteOpenAlex).openAlexRecord()
	for _, k := range []string{"id", "doi", "title", "display_name", "publication_year", "publication_date", "type", "ids",
		"primary_location", "best_oa_location", "locations", "locations_count", "open_access", "has_fulltext", "primary_topic"} {
		if _, ok := oa[k]; !ok {
			t.Fatalf("sample lacks %q", k)
		}
		if _, ok := rec[k]; !ok {
			t.Errorf("openalex record lacks %q", k)
		}
	}
	for _, k := range keys(oa["best_oa_location"]) {
		if _, ok := rec["best_oa_location"].(map[string]any)[k]; !ok {
			t.Errorf("location lacks %q", k)
		}
	}
	for _, k := range keys(oa["open_access"]) {
		if _, ok := rec["open_access"].(map[string]any)[k]; !ok {
			t.Errorf("open_access lacks %q", k)
		}
	}
}
