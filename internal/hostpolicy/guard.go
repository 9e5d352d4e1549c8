package hostpolicy

import (
	"fmt"
	"net/netip"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// BlockedError is a dial refused by the private-address guard, before any
// byte was sent. It unwraps to a *fulltext.Error with CodeSkipBlocklist, so
// fulltext.CodeOf reports skip-blocklist.
type BlockedError struct {
	Host   string     // the host name (or IP literal) that was asked for
	IP     netip.Addr // the address that was refused
	Reason string     // e.g. "loopback", "private (RFC 1918)"
}

func (e *BlockedError) Error() string {
	if e.Host == e.IP.String() {
		return fmt.Sprintf("hostpolicy: dial %s: blocked address: %s", e.Host, e.Reason)
	}
	return fmt.Sprintf("hostpolicy: dial %s: resolves to blocked address %s: %s", e.Host, e.IP, e.Reason)
}

// Unwrap returns the outcome carried by the refusal.
func (e *BlockedError) Unwrap() error {
	return &fulltext.Error{Code: fulltext.CodeSkipBlocklist, Err: fmt.Errorf("%s %s", e.IP, e.Reason)}
}

type blockedPrefix struct {
	p      netip.Prefix
	reason string
}

// blockedV4 and blockedV6 are the ranges no fetched URL may reach unless
// private addresses are allowed. Ordered most specific first where ranges
// nest, so the reason is the precise one.
var (
	blockedV4 = []blockedPrefix{
		{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
		{netip.MustParsePrefix("169.254.169.254/32"), "link-local (cloud metadata)"},
		{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (this network)"},
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
		{netip.MustParsePrefix("10.0.0.0/8"), "private (RFC 1918)"},
		{netip.MustParsePrefix("172.16.0.0/12"), "private (RFC 1918)"},
		{netip.MustParsePrefix("192.168.0.0/16"), "private (RFC 1918)"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
		{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)"},
		{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
		{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	}
	blockedV6 = []blockedPrefix{
		{netip.MustParsePrefix("::/128"), "unspecified"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("fec0::/10"), "site-local"},
		{netip.MustParsePrefix("fc00::/7"), "unique-local"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
		{netip.MustParsePrefix("100::/64"), "discard-only"},
	}
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	v4compat  = netip.MustParsePrefix("::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// BlockedReason reports whether ip is an address the guard refuses, and
// why. IPv6 forms that embed an IPv4 address (v4-mapped ::ffff:a.b.c.d,
// NAT64 64:ff9b::/96, v4-compatible ::a.b.c.d, 6to4 2002::/16) are judged by
// the embedded address. Safe for concurrent use.
func BlockedReason(ip netip.Addr) (reason string, blocked bool) {
	if !ip.IsValid() {
		return "invalid address", true
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		if r, b := BlockedReason(ip.Unmap()); b {
			return "v4-mapped " + r, true
		}
		return "", false
	}
	if ip.Is4() {
		for _, b := range blockedV4 {
			if b.p.Contains(ip) {
				return b.reason, true
			}
		}
		return "", false
	}
	for _, b := range blockedV6 {
		if b.p.Contains(ip) {
			return b.reason, true
		}
	}
	a := ip.As16()
	switch {
	case nat64.Contains(ip):
		if r, b := BlockedReason(netip.AddrFrom4([4]byte(a[12:16]))); b {
			return "NAT64 " + r, true
		}
	case v4compat.Contains(ip):
		// Any ::a.b.c.d other than :: and ::1 (handled above).
		if r, b := BlockedReason(netip.AddrFrom4([4]byte(a[12:16]))); b {
			return "v4-compatible " + r, true
		}
	case sixToFour.Contains(ip):
		if r, b := BlockedReason(netip.AddrFrom4([4]byte(a[2:6]))); b {
			return "6to4 " + r, true
		}
	}
	return "", false
}
