package simweb

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type faultState struct {
	Fault
	hits   int
	passed int // matching requests let through because of After
}

// SampleBody returns one of the reference payloads of apis.md by file name
// (e.g. "openalex_429.json", the daily-allowance body; "s2_429.json";
// "eutils_429.json"), for use as Fault.Body; "" when there is no such file.
func SampleBody(name string) string {
	b, err := samples.ReadFile("testdata/api-samples/" + name)
	if err != nil {
		return ""
	}
	return string(b)
}

// SetFaults replaces the injected faults (first match wins) and resets
// their counters.
func (s *Server) SetFaults(faults []Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	for _, f := range faults {
		s.faults = append(s.faults, &faultState{Fault: f})
	}
}

// takeFault returns the fault that applies to r, counting the hit.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	host := hostOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Host != "" && !strings.EqualFold(f.Host, host) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		if f.passed < f.After {
			f.passed++
			continue
		}
		f.hits++
		return f.Fault, true
	}
	return Fault{}, false
}

func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := s.takeFault(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		switch f.Kind {
		case FaultRateLimit, FaultServerError:
			status := f.Status
			if status == 0 {
				status = map[FaultKind]int{FaultRateLimit: http.StatusTooManyRequests, FaultServerError: http.StatusServiceUnavailable}[f.Kind]
			}
			if f.RetryAfter > 0 {
				if f.RetryAfterDate {
					w.Header().Set("Retry-After", s.now().Add(f.RetryAfter).UTC().Format(http.TimeFormat))
				} else {
					w.Header().Set("Retry-After", itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
				}
			}
			body := f.Body
			if body == "" {
				body = fmt.Sprintf("%d %s (simweb fault)\n", status, http.StatusText(status))
			}
			ct := f.ContentType
			if ct == "" {
				ct = "text/plain; charset=utf-8"
				if strings.HasPrefix(strings.TrimSpace(body), "{") {
					ct = "application/json"
				}
			}
			writeText(w, status, ct, body)
		case FaultReset:
			dropConn(w, true)
		case FaultHuge:
			s.huge(w, r, int64(f.Bytes))
		default:
			rec := &recorder{header: http.Header{}}
			next.ServeHTTP(rec, r.WithContext(r.Context()))
			s.mangle(w, r, f, rec)
		}
	})
}

// recorder buffers a response so that a fault can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func (s *Server) mangle(w http.ResponseWriter, r *http.Request, f Fault, rec *recorder) {
	body := rec.body.Bytes()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	rc := http.NewResponseController(w)
	switch f.Kind {
	case FaultStall:
		n := min(f.Bytes, len(body))
		w.Header().Set("Content-Length", itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:n])
		_ = rc.Flush()
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		dropConn(w, true)
	case FaultTruncate:
		n := f.Bytes
		if n <= 0 || n >= len(body) {
			n = len(body) / 2
		}
		w.Header().Set("Content-Length", itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:n])
		_ = rc.Flush()
		dropConn(w, false)
	case FaultWrongLength:
		// The announced length is shorter than the body: write by hand on
		// the hijacked connection, which net/http would refuse.
		lie := f.Bytes
		if lie <= 0 {
			lie = 100
		}
		conn, brw, err := rc.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		w.Header().Set("Content-Length", itoa(max(len(body)-lie, 0)))
		w.Header().Set("Connection", "close")
		fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		_ = w.Header().Write(brw)
		_, _ = brw.WriteString("\r\n")
		_, _ = brw.Write(body)
		_ = brw.Flush()
	case FaultDrip:
		chunk := f.Bytes
		if chunk <= 0 {
			chunk = 64
		}
		delay := f.Delay
		if delay <= 0 {
			delay = 50 * time.Millisecond
		}
		s.drip(w, r, status, body, chunk, delay)
	default:
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// dropConn closes the client's connection, with a TCP RST when rst.
func dropConn(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	type netConner interface{ NetConn() net.Conn }
	raw := conn
	if nc, ok := conn.(netConner); ok {
		raw = nc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok && rst {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// huge streams a PDF header and then zeros up to n bytes (default
// 300 MiB), stopping when the client leaves.
func (s *Server) huge(w http.ResponseWriter, r *http.Request, n int64) {
	if n <= 0 {
		n = 300 << 20
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	chunk := make([]byte, 64<<10)
	copy(chunk, "%PDF-1.4\n")
	for n > 0 {
		k := min(int64(len(chunk)), n)
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		clear(chunk[:16]) // the header only once
		n -= k
		select {
		case <-s.closing:
			return
		default:
		}
	}
}
