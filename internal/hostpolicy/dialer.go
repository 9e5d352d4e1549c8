package hostpolicy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host. *net.Resolver implements it;
// tests pass a fake.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialerConfig configures a Dialer.
type DialerConfig struct {
	// AllowPrivate turns the private-address guard off
	// (net.allow_private_addresses). Defaults to false: guarded.
	AllowPrivate bool
	// ConnectTo rules, tried in order; the first match wins. A matched
	// host is not looked up in DNS and its target is trusted by the guard.
	ConnectTo []ConnectTo
	// Resolver resolves host names. Defaults to a zero *net.Resolver
	// (the system resolver).
	Resolver Resolver
	// Timeout bounds one dial, resolution included. Defaults to 10s.
	Timeout time.Duration
	// Control, if set, is called before every socket connects (see
	// net.Dialer.Control). Tests use it as a last-resort refusal of
	// non-loopback addresses.
	Control func(network, address string, c syscall.RawConn) error
}

// Dialer dials TCP connections for the HTTP transport with connect-to
// rewriting and the private-address guard: a host name is resolved once,
// every address is checked, and only checked addresses are dialed (no
// second lookup, so DNS rebinding cannot slip past the check).
//
// A Dialer is safe for concurrent use by multiple goroutines.
type Dialer struct {
	allowPrivate bool
	connectTo    []ConnectTo
	resolver     Resolver
	nd           net.Dialer
	timeout      time.Duration
}

// NewDialer returns a Dialer for cfg with defaults filled in.
func NewDialer(cfg DialerConfig) *Dialer {
	d := &Dialer{
		allowPrivate: cfg.AllowPrivate,
		connectTo:    append([]ConnectTo(nil), cfg.ConnectTo...),
		resolver:     cfg.Resolver,
		timeout:      cmp.Or(cfg.Timeout, 10*time.Second),
	}
	if d.resolver == nil {
		d.resolver = &net.Resolver{}
	}
	d.nd = net.Dialer{Timeout: d.timeout, Control: cfg.Control}
	return d
}

// DialContext connects to addr ("host:port") on network ("tcp", "tcp4" or
// "tcp6"). A connect-to match dials its target unchecked. Otherwise the
// host is resolved (IP literals are not), every address is checked, and
// the checked addresses are dialed in order until one connects. A refused
// address returns a *BlockedError before any packet is sent.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("hostpolicy: dial %s: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	for _, c := range d.connectTo {
		if target, ok := c.Match(host, port); ok {
			return d.dialTrusted(ctx, network, addr, target)
		}
	}
	ips, err := d.lookup(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("hostpolicy: dial %s: %w", addr, err)
	}
	if !d.allowPrivate {
		for _, ip := range ips {
			if reason, blocked := BlockedReason(ip); blocked {
				return nil, &BlockedError{Host: host, IP: ip, Reason: reason}
			}
		}
	}
	return d.dialAddrs(ctx, network, addr, ips, port)
}

// dialTrusted dials a connect-to target; names in targets are resolved
// but not checked.
func (d *Dialer) dialTrusted(ctx context.Context, network, addr, target string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("hostpolicy: dial %s via %s: %w", addr, target, err)
	}
	ips, err := d.lookup(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("hostpolicy: dial %s via %s: %w", addr, target, err)
	}
	return d.dialAddrs(ctx, network, addr, ips, port)
}

func (d *Dialer) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ipNet := "ip"
	switch network {
	case "tcp4":
		ipNet = "ip4"
	case "tcp6":
		ipNet = "ip6"
	}
	ips, err := d.resolver.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return ips, nil
}

func (d *Dialer) dialAddrs(ctx context.Context, network, addr string, ips []netip.Addr, port string) (net.Conn, error) {
	var errs []error
	for _, ip := range ips {
		ip = ip.Unmap()
		if (network == "tcp4" && !ip.Is4()) || (network == "tcp6" && !ip.Is6()) {
			continue
		}
		c, err := d.nd.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("hostpolicy: dial %s: no %s address", addr, network)
	}
	return nil, fmt.Errorf("hostpolicy: dial %s: %w", addr, errors.Join(errs...))
}
