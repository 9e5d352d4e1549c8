// Package hostpolicy is oafetch's HTTP layer below the sources: the
// connect-to rewriting, the private-address (SSRF) guard in the dialer, the
// TLS transport, the User-Agent, and the per-host politeness wrapper
// (pause, circuit breaker, adaptive concurrency, pacing, Retry-After,
// retries with backoff, robots.txt).
//
// Everything here is an http.RoundTripper or a dialer; sources never know
// it exists. cmd/oafetch assembles the stack in one place, and every
// worker of the process shares the one Policy, so per-host budgets are
// global to the process:
//
//	d := hostpolicy.NewDialer(hostpolicy.DialerConfig{ConnectTo: rules, AllowPrivate: allow})
//	tr, err := hostpolicy.NewTransport(hostpolicy.TransportConfig{Dialer: d, CAFile: caFile})
//	pol := hostpolicy.NewPolicy(hostpolicy.PolicyConfig{Hosts: perHost})
//	client := &http.Client{Transport: hostpolicy.UserAgent(pol.Wrap(tr), ua)}
//
// Requests for landing pages and publisher hosts carry WithRobots(ctx);
// API calls do not. Failures carry fulltext codes: skip-blocklist (the
// guard), skip-robots, skip-breaker, rate-limited (paused host, with
// RetryAfter), timeout and network-error (after retries).
package hostpolicy
