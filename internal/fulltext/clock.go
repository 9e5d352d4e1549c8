package fulltext

import (
	"sync"
	"time"
)

// Clock tells the time. Components take one so that tests can stub it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// StubClock is a Clock that moves only when told to. Safe for concurrent use.
type StubClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewStubClock returns a StubClock set to t.
func NewStubClock(t time.Time) *StubClock { return &StubClock{now: t} }

// Now returns the stubbed time.
func (c *StubClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *StubClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
