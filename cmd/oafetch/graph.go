package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/landing"
	"github.com/oafetch/oafetch/internal/source"
	"github.com/oafetch/oafetch/internal/telemetry"
	"github.com/oafetch/oafetch/internal/worker"
)

// runtime is the assembled graph of one fetching command.
type runtime struct {
	policy   *hostpolicy.Policy
	api      *http.Client // API calls: follows redirects (credentials stay on their host)
	fetch    *http.Client // full texts and landing pages: redirects by hand in download
	sources  map[string]source.Source
	download *download.Downloader
	cascade  *cascade.Cascade
}

// buildRuntime assembles the HTTP stack, the sources, the downloader and the
// cascade in one place, top to bottom:
//
//	dialer (private-address guard, connect-to) → transport (TLS, CA file)
//	→ per-host policy (pacing, concurrency, Retry-After, retries, breaker, robots)
//	→ User-Agent → clients → sources / downloader → cascade
func buildRuntime(cfg Config, formats []fulltext.Kind, dryRun bool, arts fulltext.ArtifactStore, log *slog.Logger) (*runtime, error) {
	return buildObservedRuntime(cfg, formats, dryRun, arts, log, nil)
}

// buildObservedRuntime is buildRuntime with metrics (nil for none): the
// host policy reports waits, retries and breaker changes to m, m counts
// what goes on the wire under the policy, the sources report the APIs'
// X-RateLimit-* allowances to m, and m shows the per-work budgets.
func buildObservedRuntime(cfg Config, formats []fulltext.Kind, dryRun bool, arts fulltext.ArtifactStore, log *slog.Logger, m *telemetry.Metrics) (*runtime, error) {
	var cts []hostpolicy.ConnectTo
	for _, s := range cfg.Net.ConnectTo {
		ct, err := hostpolicy.ParseConnectTo(s)
		if err != nil {
			return nil, usagef("--connect-to: %w", err)
		}
		cts = append(cts, ct)
	}
	dialer := hostpolicy.NewDialer(hostpolicy.DialerConfig{
		AllowPrivate: cfg.Net.AllowPrivateAddresses, ConnectTo: cts, Control: cfg.dialControl,
	})
	maxConc := 1
	for _, h := range cfg.Hosts {
		maxConc = max(maxConc, h.Concurrency)
	}
	tr, err := hostpolicy.NewTransport(hostpolicy.TransportConfig{
		Dialer: dialer, CAFile: cfg.Net.CAFile, MaxIdleConnsPerHost: max(maxConc, 4),
	})
	if err != nil {
		return nil, &ConfigError{Where: "net.ca_file", Err: err}
	}
	pcfg, err := policyConfig(cfg)
	if err != nil {
		return nil, err
	}
	var wire http.RoundTripper = tr
	if m != nil {
		pcfg.Observer = m
		wire = m.Transport(tr)
	}
	policy := hostpolicy.NewPolicy(pcfg)
	ua := cfg.Net.UserAgent
	if ua == "" {
		ua = hostpolicy.DefaultUserAgent(version, cfg.Mailto)
	}
	rt := hostpolicy.UserAgent(policy.Wrap(wire), ua)
	api := &http.Client{Transport: rt, CheckRedirect: apiRedirect, Timeout: 60 * time.Second}
	// One cookie jar per process for full texts and landing pages: a
	// candidate found on a landing page is fetched with the cookies that
	// page set for its host (publishers gate the PDF on a session cookie).
	// Per process rather than per work because the jar is safe for
	// concurrent use, keys cookies by host (public-suffix aware, so one
	// site cannot set them for another) and expires them as the server
	// says, and a session a host handed out is valid for its other works
	// too, as in a browser. The API client stays cookie-less.
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, fmt.Errorf("oafetch: cookie jar: %w", err)
	}
	fetch := &http.Client{Transport: rt, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	deps := source.Deps{Client: api, Mailto: cfg.Mailto, UserAgent: ua, Formats: formats}
	if m != nil {
		deps.RateLimit = m.RateLimit // oafetch_api_credits_*{api}
		m.FallbackBudget(time.Duration(cfg.Fallback.TotalTimeoutMS)*time.Millisecond, cfg.Fallback.MaxAttempts)
	}
	sources := map[string]source.Source{}
	for _, name := range source.Names() {
		if !cfg.SourceEnabled(name) {
			continue
		}
		sc := cfg.Sources[name]
		src, err := source.New(name, source.Config{Enabled: true, BaseURL: sc.BaseURL, APIKey: sc.APIKey}, deps)
		if err != nil {
			return nil, &ConfigError{Where: "sources." + name, Err: err}
		}
		sources[name] = src
	}
	dl := download.New(download.Config{MaxBodyBytes: cfg.Net.MaxBodyBytes}, fetch, arts)
	tiers := make([]cascade.Tier, 0, len(cfg.Fallback.Tiers))
	for _, t := range cfg.Fallback.Tiers {
		tiers = append(tiers, cascade.Tier{Name: t.Name, Parallel: t.Parallel, Sources: t.Sources})
	}
	c := cascade.New(cascade.Config{
		Tiers:         tiers,
		TotalTimeout:  time.Duration(cfg.Fallback.TotalTimeoutMS) * time.Millisecond,
		MaxAttempts:   cfg.Fallback.MaxAttempts,
		MaxConcurrent: cfg.Fallback.MaxConcurrent,
		Formats:       formats,
		DryRun:        dryRun,
		OnChallenge: func(host string, code fulltext.Code) {
			policy.Avoid(host, code, "served a challenge wall earlier in this run")
		},
		Verify: dl.Verify,
	}, sources, dl, analyzePage, nil)
	return &runtime{policy: policy, api: api, fetch: fetch, sources: sources, download: dl, cascade: c}, nil
}

// cacheAPI puts the metadata cache in front of the API client (and so of
// every source); full texts and landing pages never go through it. Call it
// before the runtime is used.
func (rt *runtime) cacheAPI(wrap func(http.RoundTripper) http.RoundTripper) {
	rt.api.Transport = wrap(rt.api.Transport)
}

// apiRedirect follows up to 5 redirects and never carries credentials to
// another host (CORE's download redirect is the known trap).
func apiRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	if !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		req.Header.Del("Authorization")
		req.Header.Del("X-Api-Key")
		q := req.URL.Query()
		if q.Has("api_key") {
			q.Del("api_key")
			req.URL.RawQuery = q.Encode()
		}
	}
	return nil
}

// policyConfig turns the [hosts] tables into the per-host policy.
func policyConfig(cfg Config) (hostpolicy.PolicyConfig, error) {
	pc := hostpolicy.PolicyConfig{Hosts: map[string]hostpolicy.HostConfig{}}
	for host, h := range cfg.Hosts {
		r, err := ParseRate(h.Rate)
		if err != nil {
			return pc, &ConfigError{Where: fmt.Sprintf("hosts.%q.rate", host), Err: err}
		}
		hc := hostpolicy.HostConfig{Rate: rate.Limit(r), Burst: 1, Concurrency: h.Concurrency}
		if host == "default" {
			pc.Default = hc
			continue
		}
		pc.Hosts[host] = hc
	}
	return pc, nil
}

// analyzePage is the cascade's view of the landing package: a wall keeps
// no links (they lead to the same wall); a refusal the page does not
// explain further is what its status says (landing.Result.Code).
func analyzePage(pageURL string, status int, f *download.Fetched, w fulltext.Work) cascade.Page {
	res := landing.Extract(pageURL, status, f.Header, f.Page, landing.Hint{
		DOI: w.IDs.DOI, Title: w.Title, PMCID: w.IDs.PMCID, ArXiv: w.IDs.ArXiv,
	})
	p := cascade.Page{Refresh: res.Refresh, Links: res.Candidates("", pageURL)}
	if res.Verdict != landing.VerdictArticle || len(p.Links) == 0 {
		p.Code = res.Code()
		if res.Verdict.Blocked() || res.Verdict == landing.VerdictError {
			p.Links, p.Refresh = nil, ""
		}
	}
	return p
}

// newPool builds the worker pool over the runtime.
func newPool(cfg Config, workers int, store fulltext.JobStore, arts fulltext.ArtifactStore, rt *runtime, log *slog.Logger, obs worker.Observer) *worker.Pool {
	return worker.New(worker.Config{
		Workers:     workers,
		Owner:       workerOwner(),
		LeaseTTL:    time.Duration(cfg.Jobs.LeaseTTL),
		MaxAttempts: cfg.Jobs.MaxAttempts,
		Logger:      log,
		Refetcher:   rt.download,
	}, store, arts, rt.cascade, rt.download, obs)
}

// workerOwner names this process in leases and published host states.
func workerOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}
