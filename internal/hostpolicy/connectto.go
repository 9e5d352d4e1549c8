package hostpolicy

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ConnectTo is one --connect-to rule with curl's meaning: connections for
// HOST1:PORT1 go to HOST2:PORT2 while the URL, the Host header and the TLS
// server name stay HOST1. An empty Host or Port matches any; an empty
// TargetHost or TargetPort keeps the original one.
//
// A ConnectTo is a plain value and safe for concurrent use.
type ConnectTo struct {
	Host, Port             string // match; "" matches any
	TargetHost, TargetPort string // rewrite; "" keeps the original
}

// ParseConnectTo parses HOST1:PORT1:HOST2:PORT2. IPv6 addresses are written
// in brackets ("[::1]"). Host names are compared case-insensitively. The
// error names the input.
func ParseConnectTo(s string) (ConnectTo, error) {
	parts, err := splitConnectTo(s)
	if err != nil {
		return ConnectTo{}, fmt.Errorf("hostpolicy: connect-to %q: %w", s, err)
	}
	c := ConnectTo{
		Host:       strings.ToLower(parts[0]),
		Port:       parts[1],
		TargetHost: strings.ToLower(parts[2]),
		TargetPort: parts[3],
	}
	for _, p := range []string{c.Port, c.TargetPort} {
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ConnectTo{}, fmt.Errorf("hostpolicy: connect-to %q: bad port %q", s, p)
		}
	}
	for _, h := range []string{c.Host, c.TargetHost} {
		if strings.ContainsAny(h, "/ @?#") {
			return ConnectTo{}, fmt.Errorf("hostpolicy: connect-to %q: bad host %q", s, h)
		}
	}
	if c.TargetHost == "" && c.TargetPort == "" {
		return ConnectTo{}, fmt.Errorf("hostpolicy: connect-to %q: empty target", s)
	}
	return c, nil
}

// splitConnectTo splits on the three colons outside brackets and strips the
// brackets of IPv6 literals.
func splitConnectTo(s string) ([4]string, error) {
	var out [4]string
	i := 0
	rest := s
	for i < 4 {
		var field string
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return out, fmt.Errorf("unclosed bracket")
			}
			field = rest[1:end]
			if _, err := netip.ParseAddr(field); err != nil || !strings.Contains(field, ":") {
				return out, fmt.Errorf("bad IPv6 literal %q", field)
			}
			rest = rest[end+1:]
			if i < 3 && !strings.HasPrefix(rest, ":") {
				return out, fmt.Errorf("want HOST1:PORT1:HOST2:PORT2")
			}
		} else {
			end := strings.IndexByte(rest, ':')
			if i == 3 {
				end = len(rest)
				if strings.Contains(rest, ":") {
					return out, fmt.Errorf("want HOST1:PORT1:HOST2:PORT2")
				}
			}
			if end < 0 {
				return out, fmt.Errorf("want HOST1:PORT1:HOST2:PORT2")
			}
			field = rest[:end]
			if strings.ContainsAny(field, "[]") {
				return out, fmt.Errorf("bad field %q", field)
			}
			rest = rest[end:]
		}
		out[i] = field
		i++
		if i < 4 {
			rest = strings.TrimPrefix(rest, ":")
		} else if rest != "" {
			return out, fmt.Errorf("want HOST1:PORT1:HOST2:PORT2")
		}
	}
	return out, nil
}

// String returns the rule in the form ParseConnectTo accepts.
func (c ConnectTo) String() string {
	return bracket(c.Host) + ":" + c.Port + ":" + bracket(c.TargetHost) + ":" + c.TargetPort
}

func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// Match reports whether a connection to host:port is rewritten by c and, if
// so, the "host:port" to dial instead. IP-literal hosts are never
// rewritten. host may carry IPv6 brackets; it is compared case-insensitively.
func (c ConnectTo) Match(host, port string) (target string, ok bool) {
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	host = strings.TrimSuffix(host, ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return "", false
	}
	if c.Host != "" && c.Host != host {
		return "", false
	}
	if c.Port != "" && c.Port != port {
		return "", false
	}
	return net.JoinHostPort(cmp.Or(c.TargetHost, host), cmp.Or(c.TargetPort, port)), true
}
