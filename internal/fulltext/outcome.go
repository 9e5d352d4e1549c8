package fulltext

import (
	"errors"
	"fmt"
	"time"
)

// Outcome is the class of a work's result (DESIGN.md §7).
type Outcome string

// The outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeSkip    Outcome = "skip"
	OutcomeAbsent  Outcome = "absent"
	OutcomeBlocked Outcome = "blocked"
	OutcomeRetry   Outcome = "retry"
	OutcomeInvalid Outcome = "invalid"
	OutcomeBudget  Outcome = "budget"
	OutcomeError   Outcome = "error"
)

// Code is a stable kebab-case outcome code.
type Code string

// The outcome codes (contract).
const (
	CodeOKPDF      Code = "ok-pdf"
	CodeOKXML      Code = "ok-xml"
	CodeOKHTML     Code = "ok-html"
	CodeOKExisting Code = "ok-existing"

	CodeSkipDone          Code = "skip-done"
	CodeSkipBlocklist     Code = "skip-blocklist"
	CodeSkipRobots        Code = "skip-robots"
	CodeSkipBreaker       Code = "skip-breaker"
	CodeSkipNotApplicable Code = "skip-not-applicable"
	CodeSkipDuplicateURL  Code = "skip-duplicate-url"

	CodeNoOALocation Code = "no-oa-location"
	CodeNoPDFLink    Code = "no-pdf-link"
	CodeNotFound     Code = "not-found"
	CodeEmbargoed    Code = "embargoed"
	CodeNoCapture    Code = "no-capture"
	CodeRedirectLoop Code = "redirect-loop"
	CodeMaxHops      Code = "max-hops"

	CodeBlockedChallenge Code = "blocked-challenge"
	CodeBlockedCaptcha   Code = "blocked-captcha"
	CodeBlockedLogin     Code = "blocked-login"
	CodeBlockedPaywall   Code = "blocked-paywall"
	CodeBlockedCookie    Code = "blocked-cookie"
	CodeBlockedForbidden Code = "blocked-forbidden"

	CodeRateLimited  Code = "rate-limited"
	CodeServerError  Code = "server-error"
	CodeTimeout      Code = "timeout"
	CodeNetworkError Code = "network-error"
	CodeTruncated    Code = "truncated"

	CodeWrongType  Code = "wrong-type"
	CodePDFCorrupt Code = "pdf-corrupt"
	CodeTooSmall   Code = "too-small"
	CodeTooLarge   Code = "too-large"
	CodeEmptyBody  Code = "empty-body"
	CodeWrongWork  Code = "wrong-work"
	CodeWrongScope Code = "wrong-scope"

	CodeBudgetExhausted  Code = "budget-exhausted"
	CodeCreditsExhausted Code = "credits-exhausted"

	// CodeResolverError is an upstream API answer that could not be used
	// (malformed or contradictory); the next source is tried.
	CodeResolverError Code = "resolver-error"

	CodeStoreError Code = "store-error"
	CodeInternal   Code = "internal"
)

var codeOutcomes = map[Code]Outcome{
	CodeOKPDF: OutcomeOK, CodeOKXML: OutcomeOK, CodeOKHTML: OutcomeOK, CodeOKExisting: OutcomeOK,

	CodeSkipDone: OutcomeSkip, CodeSkipBlocklist: OutcomeSkip, CodeSkipRobots: OutcomeSkip,
	CodeSkipBreaker: OutcomeSkip, CodeSkipNotApplicable: OutcomeSkip, CodeSkipDuplicateURL: OutcomeSkip,

	CodeNoOALocation: OutcomeAbsent, CodeNoPDFLink: OutcomeAbsent, CodeNotFound: OutcomeAbsent,
	CodeEmbargoed: OutcomeAbsent, CodeNoCapture: OutcomeAbsent, CodeRedirectLoop: OutcomeAbsent,
	CodeMaxHops: OutcomeAbsent, CodeResolverError: OutcomeAbsent,

	CodeBlockedChallenge: OutcomeBlocked, CodeBlockedCaptcha: OutcomeBlocked, CodeBlockedLogin: OutcomeBlocked,
	CodeBlockedPaywall: OutcomeBlocked, CodeBlockedCookie: OutcomeBlocked, CodeBlockedForbidden: OutcomeBlocked,

	CodeRateLimited: OutcomeRetry, CodeServerError: OutcomeRetry, CodeTimeout: OutcomeRetry,
	CodeNetworkError: OutcomeRetry, CodeTruncated: OutcomeRetry,

	CodeWrongType: OutcomeInvalid, CodePDFCorrupt: OutcomeInvalid, CodeTooSmall: OutcomeInvalid,
	CodeTooLarge: OutcomeInvalid, CodeEmptyBody: OutcomeInvalid, CodeWrongWork: OutcomeInvalid,
	CodeWrongScope: OutcomeInvalid,

	CodeBudgetExhausted: OutcomeBudget, CodeCreditsExhausted: OutcomeBudget,

	CodeStoreError: OutcomeError, CodeInternal: OutcomeError,
}

// Outcome returns the outcome class of c; unknown codes are OutcomeError.
func (c Code) Outcome() Outcome {
	if o, ok := codeOutcomes[c]; ok {
		return o
	}
	return OutcomeError
}

// Known reports whether c is a defined code.
func (c Code) Known() bool {
	_, ok := codeOutcomes[c]
	return ok
}

// Codes returns every defined code.
func Codes() []Code {
	out := make([]Code, 0, len(codeOutcomes))
	for c := range codeOutcomes {
		out = append(out, c)
	}
	return out
}

// Retryable reports whether an attempt ending with c may succeed later.
func (c Code) Retryable() bool {
	return c.Outcome() == OutcomeRetry || c == CodeCreditsExhausted
}

// rank orders outcomes for "a work's code is its best attempt's":
// ok > blocked/retry > invalid > skip > absent.
func (c Code) rank() int {
	switch c.Outcome() {
	case OutcomeOK:
		return 100
	case OutcomeError:
		return 90 // never disguised as another code
	case OutcomeBudget:
		return 80
	case OutcomeRetry:
		return 70
	case OutcomeBlocked:
		return 60
	case OutcomeInvalid:
		return 50
	case OutcomeSkip:
		return 40
	case OutcomeAbsent:
		if c == CodeNoOALocation || c == CodeNotFound || c == CodeResolverError {
			return 10
		}
		return 20
	}
	return 0
}

// Better reports whether c is a better summary of a work than other.
func (c Code) Better(other Code) bool {
	if other == "" {
		return c != ""
	}
	return c.rank() > other.rank()
}

// Error is an attempt's failure carrying its outcome code. Sources,
// downloads and the cascade return it; the worker's single switch maps the
// code to the job's next state.
type Error struct {
	Code Code
	// RetryAfter is the wait the remote asked for (Retry-After), or 0.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Code)
	}
	return fmt.Sprintf("%s: %v", e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code c and a formatted cause.
func Errorf(c Code, format string, args ...any) error {
	return &Error{Code: c, Err: fmt.Errorf(format, args...)}
}

// CodeOf returns the code carried by err, CodeInternal for an error that
// carries none, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Sentinel errors of the stores.
var (
	// ErrLeaseLost is returned for a write whose (job, epoch) is no longer
	// the current lease; the worker must stop writing for that job.
	ErrLeaseLost = errors.New("lease lost")
	// ErrNotFound is returned when a job or artifact does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadTransition is returned for a state change the machine forbids.
	ErrBadTransition = errors.New("illegal state transition")
	// ErrSchemaTooNew is returned when the store's schema is newer than this
	// binary knows.
	ErrSchemaTooNew = errors.New("job store schema is newer than this oafetch")
)
