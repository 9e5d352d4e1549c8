package hostpolicy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
)

// loopbackOnly is the last-resort test hook: a dial to any non-loopback
// address is refused before the socket connects (no packet leaves) and
// recorded, so a broken guard fails the test instead of sending traffic.
type loopbackOnly struct {
	mu      sync.Mutex
	dials   []string
	refused []string
}

func (l *loopbackOnly) Control(network, address string, _ syscall.RawConn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		l.refused = append(l.refused, address)
		return fmt.Errorf("test safety: refusing dial to non-loopback %s", address)
	}
	l.dials = append(l.dials, address)
	return nil
}

func (l *loopbackOnly) counts() (dials int, refused []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.dials), append([]string(nil), l.refused...)
}

// checkNoLeak fails t if any non-loopback dial was attempted.
func (l *loopbackOnly) checkNoLeak(t *testing.T) {
	t.Helper()
	if _, refused := l.counts(); len(refused) > 0 {
		t.Errorf("dials to non-loopback addresses reached the socket layer: %v", refused)
	}
}

// fakeResolver answers from a fixed table and counts lookups; a host
// missing from the table fails the lookup (no real DNS in tests).
type fakeResolver struct {
	mu      sync.Mutex
	table   map[string][]netip.Addr
	lookups map[string]int
}

func newFakeResolver(table map[string][]string) *fakeResolver {
	r := &fakeResolver{table: map[string][]netip.Addr{}, lookups: map[string]int{}}
	for h, as := range table {
		for _, a := range as {
			r.table[h] = append(r.table[h], netip.MustParseAddr(a))
		}
	}
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups[host]++
	if as, ok := r.table[host]; ok {
		return as, nil
	}
	return nil, &net.DNSError{Err: "no such host (fake resolver)", Name: host, IsNotFound: true}
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}
