package simweb

import (
	"cmp"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// Config configures a simulated web.
type Config struct {
	// Works is the number of works in the world, the three cast works
	// included. Defaults to 200.
	Works int
	// Seed selects the generated world. Defaults to 1.
	Seed int64
	// Hostile adds the hostile routes (redirect chains and loops, private
	// addresses, a gzip bomb, Content-Length lies, drips, path-traversal
	// file names, JS as PDF, the PDF of another work) to the generated
	// cycle. Off by default: the plain world is what demos fetch.
	Hostile bool
	// Faults are injected into matching requests, first match wins.
	// Server.SetFaults replaces them at run time.
	Faults []Fault
	// Clock dates Retry-After headers and the request log. Defaults to
	// fulltext.SystemClock.
	Clock fulltext.Clock
	// OpenAlexCredits is the daily allowance of OpenAlex list calls
	// (/works?…, /topics?…; singleton lookups are free, as on the real
	// service). Every OpenAlex answer carries X-RateLimit-Limit,
	// X-RateLimit-Remaining and X-RateLimit-Reset (seconds to midnight UTC);
	// once the allowance is spent, list calls answer 429 with the
	// daily-allowance body. Defaults to 10000 (the free $1/day at $0.10 per
	// 1 000 calls); Server.SetOpenAlexCredits starts a new day.
	OpenAlexCredits int
}

func (c Config) withDefaults() Config {
	c.Works = cmp.Or(c.Works, 200)
	c.Seed = cmp.Or(c.Seed, 1)
	c.OpenAlexCredits = cmp.Or(c.OpenAlexCredits, 10000)
	if c.Clock == nil {
		c.Clock = fulltext.SystemClock{}
	}
	return c
}

// FaultKind is one kind of injected failure.
type FaultKind string

// The injectable faults (DESIGN.md §9).
const (
	// FaultRateLimit answers 429 (or Status), with a Retry-After header when
	// RetryAfter is set: seconds, or an HTTP date when RetryAfterDate.
	FaultRateLimit FaultKind = "rate-limit"
	// FaultServerError answers Status (default 503) with a short body.
	FaultServerError FaultKind = "server-error"
	// FaultReset closes the connection without a response (TCP RST).
	FaultReset FaultKind = "reset"
	// FaultStall sends the headers and the first Bytes bytes of the body
	// (default 0), then sends nothing more until the client gives up or the
	// server closes.
	FaultStall FaultKind = "stall"
	// FaultTruncate announces the full Content-Length, sends the first
	// Bytes bytes (default half the body) and closes the connection.
	FaultTruncate FaultKind = "truncate"
	// FaultWrongLength announces a Content-Length Bytes larger than the
	// body (default 100), sends the whole body and closes the connection.
	FaultWrongLength FaultKind = "wrong-length"
	// FaultHuge answers 200 application/pdf with a body of Bytes bytes
	// (default 300 MiB): a PDF header then zeros, streamed, with an honest
	// Content-Length.
	FaultHuge FaultKind = "huge"
	// FaultDrip sends the body in chunks of Bytes bytes (default 64) with
	// Delay between them (default 50ms).
	FaultDrip FaultKind = "drip"
)

// Fault injects one failure into the requests it matches.
type Fault struct {
	// Host matches the request's host exactly; empty matches every host.
	Host string
	// PathPrefix matches the start of the request path; empty matches all.
	PathPrefix string
	Kind       FaultKind
	// Status overrides the status of FaultRateLimit and FaultServerError.
	Status int
	// RetryAfter, when positive, adds a Retry-After header.
	RetryAfter time.Duration
	// RetryAfterDate writes Retry-After as an HTTP date (Clock + RetryAfter)
	// instead of seconds.
	RetryAfterDate bool
	// Body and ContentType replace the short text body of FaultRateLimit
	// and FaultServerError, e.g. with a service's own JSON error (see
	// SampleBody).
	Body        string
	ContentType string
	// Times is how many matching requests fail; 0 means every one. After
	// Times failures the fault lets requests through.
	Times int
	// After passes the first After matching requests on (to the next
	// fault, or the handler) before this fault applies: e.g. the first
	// pages of a query succeed, the next one stalls.
	After int
	// Bytes parameterises stall, truncate, wrong-length, huge and drip.
	Bytes int
	// Delay is the drip interval.
	Delay time.Duration
}
