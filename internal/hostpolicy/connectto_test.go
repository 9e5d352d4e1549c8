package hostpolicy

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestParseConnectTo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     ConnectTo
		wantErr  bool
	}{
		{name: "full", in: "api.openalex.org:443:127.0.0.1:8443", want: ConnectTo{"api.openalex.org", "443", "127.0.0.1", "8443"}},
		{name: "any host", in: ":443:127.0.0.1:8443", want: ConnectTo{"", "443", "127.0.0.1", "8443"}},
		{name: "any host any port", in: "::127.0.0.1:8443", want: ConnectTo{"", "", "127.0.0.1", "8443"}},
		{name: "upper case host", in: "API.OpenAlex.org:443:localhost:1", want: ConnectTo{"api.openalex.org", "443", "localhost", "1"}},
		{name: "ipv6 target", in: ":443:[::1]:8443", want: ConnectTo{"", "443", "::1", "8443"}},
		{name: "ipv6 both", in: "[2001:db8::1]:80:[::1]:8080", want: ConnectTo{"2001:db8::1", "80", "::1", "8080"}},
		{name: "keep port", in: "a.example:443:b.example:", want: ConnectTo{"a.example", "443", "b.example", ""}},
		{name: "keep host", in: "a.example:443::8443", want: ConnectTo{"a.example", "443", "", "8443"}},
		{name: "too few", in: "a:1:b", wantErr: true},
		{name: "too many", in: "a:1:b:2:3", wantErr: true},
		{name: "bad port", in: "a:x:b:2", wantErr: true},
		{name: "port range", in: "a:1:b:70000", wantErr: true},
		{name: "unclosed bracket", in: ":443:[::1:8443", wantErr: true},
		{name: "not ipv6 in brackets", in: ":443:[abc]:8443", wantErr: true},
		{name: "bare ipv6", in: ":443:::1:8443", wantErr: true},
		{name: "empty target", in: "a:443::", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "slash", in: "a/b:1:c:2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseConnectTo(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseConnectTo(%q) = %+v, want error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q does not name the input %q", err, tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConnectTo(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseConnectTo(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			back, err := ParseConnectTo(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip %q -> %q -> %+v, %v", tt.in, got.String(), back, err)
			}
		})
	}
}

func TestConnectToMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rule, host, port string
		want                   string
		ok                     bool
	}{
		{name: "exact", rule: "api.openalex.org:443:127.0.0.1:8443", host: "api.openalex.org", port: "443", want: "127.0.0.1:8443", ok: true},
		{name: "case", rule: "api.openalex.org:443:127.0.0.1:8443", host: "API.OpenAlex.ORG", port: "443", want: "127.0.0.1:8443", ok: true},
		{name: "trailing dot", rule: "api.openalex.org:443:127.0.0.1:8443", host: "api.openalex.org.", port: "443", want: "127.0.0.1:8443", ok: true},
		{name: "other host", rule: "api.openalex.org:443:127.0.0.1:8443", host: "api.crossref.org", port: "443", ok: false},
		{name: "other port", rule: "api.openalex.org:443:127.0.0.1:8443", host: "api.openalex.org", port: "80", ok: false},
		{name: "any host", rule: ":443:127.0.0.1:8443", host: "doi.org", port: "443", want: "127.0.0.1:8443", ok: true},
		{name: "any port", rule: "doi.org::127.0.0.1:8443", host: "doi.org", port: "80", want: "127.0.0.1:8443", ok: true},
		{name: "keep port", rule: "doi.org:443:localhost:", host: "doi.org", port: "443", want: "localhost:443", ok: true},
		{name: "ipv6 target", rule: ":443:[::1]:8443", host: "doi.org", port: "443", want: "[::1]:8443", ok: true},
		{name: "ip literal v4 never", rule: "::127.0.0.1:8443", host: "10.0.0.1", port: "443", ok: false},
		{name: "ip literal v6 never", rule: "::127.0.0.1:8443", host: "[::1]", port: "443", ok: false},
		{name: "ip literal exact rule never", rule: "169.254.169.254:80:127.0.0.1:8080", host: "169.254.169.254", port: "80", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseConnectTo(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.Match(tt.host, tt.port)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("Match(%q, %q) = %q, %v; want %q, %v", tt.host, tt.port, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseConnectTo(f *testing.F) {
	for _, s := range []string{"api.openalex.org:443:127.0.0.1:8443", ":443:[::1]:8443", "::a:1", "[::1]:80::8080", "a:1:b", "[:1:b:2", "a:1:[::1]x:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConnectTo(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		back, err := ParseConnectTo(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip %q -> %q -> %+v, %v", s, c.String(), back, err)
		}
		if target, ok := c.Match("example.org", "443"); ok {
			if _, _, err := net.SplitHostPort(target); err != nil {
				t.Fatalf("Match target %q is not host:port: %v", target, err)
			}
		}
	})
}
