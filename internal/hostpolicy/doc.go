// Package hostpolicy is oafetch's HTTP layer below the sources: the
// connect-to rewriting, the private-address (SSRF) guard in the dialer, the
// TLS transport, the User-Agent, and the per-host politeness wrappers
// (pacing, adaptive concurrency, Retry-After, retries, circuit breaker,
// robots.txt).
//
// Everything here is an http.RoundTripper or a dialer; sources never know
// it exists. cmd/oafetch assembles the stack in one place:
//
//	d := hostpolicy.NewDialer(hostpolicy.DialerConfig{ConnectTo: ct})
//	tr, err := hostpolicy.NewTransport(hostpolicy.TransportConfig{Dialer: d, CAFile: ca})
//	p := hostpolicy.NewPolicy(hostpolicy.PolicyConfig{...})
//	client := &http.Client{Transport: hostpolicy.UserAgent(p.Wrap(tr), ua)}
package hostpolicy
