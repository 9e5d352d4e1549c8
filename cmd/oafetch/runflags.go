package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// inputFlags select the works to plan.
type inputFlags struct {
	inputs         []string
	openalexFilter string
	topic          string
	yearStart      int
	yearEnd        int
	oaOnly         bool
	max            int
}

func addInputFlags(cmd *cobra.Command, f *inputFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.inputs, "input", nil, "file of identifiers or OpenAlex JSON objects, one per line (- for stdin; repeatable)")
	fl.StringVar(&f.openalexFilter, "openalex-filter", "", "plan the works of an OpenAlex filter expression")
	fl.StringVar(&f.topic, "topic", "", "plan the works of an OpenAlex topic (id or name)")
	fl.IntVar(&f.yearStart, "year-start", 0, "with --topic: first publication year")
	fl.IntVar(&f.yearEnd, "year-end", 0, "with --topic: last publication year")
	fl.BoolVar(&f.oaOnly, "oa-only", false, "with --topic: only works OpenAlex marks open access")
	fl.IntVar(&f.max, "max", 0, "plan at most N works (0: no limit)")
}

func (f *inputFlags) query() bool { return f.openalexFilter != "" || f.topic != "" }

func (f *inputFlags) validate() error {
	if f.openalexFilter != "" && f.topic != "" {
		return usagef("--openalex-filter and --topic exclude each other")
	}
	if (f.yearStart != 0 || f.yearEnd != 0 || f.oaOnly) && f.topic == "" && f.openalexFilter == "" {
		return usagef("--year-start, --year-end and --oa-only go with --topic")
	}
	if f.yearStart != 0 && f.yearEnd != 0 && f.yearEnd < f.yearStart {
		return usagef("--year-end %d is before --year-start %d", f.yearEnd, f.yearStart)
	}
	if f.max < 0 {
		return usagef("--max %d: must not be negative", f.max)
	}
	return nil
}

// runFlags configure the workers, the cascade and the network.
type runFlags struct {
	workers        int
	mailto         string
	formats        string
	resolverOrder  string
	disableSources []string
	totalTimeoutMS int
	maxAttempts    int
	maxConcurrent  int
	tiers          []string
	disableWayback bool
	connectTo      []string
	caFile         string
	dryRun         bool
	metricsAddr    string
	refresh        bool
	events         string
	// refreshMetadata bypasses the metadata cache (API answers are asked
	// again, and the fresh ones stored).
	refreshMetadata bool
}

func addRunFlags(cmd *cobra.Command, f *runFlags) {
	fl := cmd.Flags()
	fl.IntVar(&f.workers, "workers", 4, "jobs processed at once")
	fl.StringVar(&f.mailto, "mailto", "", "contact address sent to APIs and in the User-Agent (env OAFETCH_MAILTO)")
	fl.StringVar(&f.formats, "formats", "pdf,xml,html", "accepted full-text kinds, preferred first")
	fl.StringVar(&f.resolverOrder, "resolver-order", "", "comma-separated source names to try first, in this order")
	fl.StringArrayVar(&f.disableSources, "disable-source", nil, "source to skip (repeatable)")
	fl.IntVar(&f.totalTimeoutMS, "fallback-total-timeout-ms", 0, "time budget per work (default from config: 120000)")
	fl.IntVar(&f.maxAttempts, "fallback-max-attempts", 0, "candidates tried per work (default from config: 20)")
	fl.IntVar(&f.maxConcurrent, "fallback-max-concurrent", 0, "fetches in flight per work (default from config: 3)")
	fl.StringArrayVar(&f.tiers, "fallback-tier", nil, "tier NAME[:parallel=N] in order (repeatable; replaces the configured order)")
	fl.BoolVar(&f.disableWayback, "disable-wayback-fallback", false, "never ask the Wayback Machine")
	fl.StringArrayVar(&f.connectTo, "connect-to", nil, "HOST1:PORT1:HOST2:PORT2 as curl's --connect-to (repeatable)")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM file of extra CA certificates to trust")
	fl.BoolVar(&f.dryRun, "dry-run", false, "resolve and print the chosen candidates without downloading")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address (e.g. 127.0.0.1:9464)")
	fl.StringVar(&f.events, "events", "", "JSONL event log, rotated by size (default: <out>/.oafetch/events.jsonl)")
	fl.BoolVar(&f.refresh, "refresh", false, "re-check finalized works: ask their stored URL with If-None-Match/If-Modified-Since (304 → ok-existing)")
	fl.BoolVar(&f.refreshMetadata, "refresh-metadata", false, "ask the APIs again instead of using the answers cached under <out>/.oafetch/metacache")
}

// applyRunFlags merges the flags over cfg (flags win) and validates.
func applyRunFlags(cmd *cobra.Command, cfg *Config, f *runFlags) error {
	changed := cmd.Flags().Changed
	if f.mailto != "" {
		cfg.Mailto = f.mailto
	}
	if changed("fallback-total-timeout-ms") {
		cfg.Fallback.TotalTimeoutMS = f.totalTimeoutMS
	}
	if changed("fallback-max-attempts") {
		cfg.Fallback.MaxAttempts = f.maxAttempts
	}
	if changed("fallback-max-concurrent") {
		cfg.Fallback.MaxConcurrent = f.maxConcurrent
	}
	if len(f.connectTo) > 0 {
		cfg.Net.ConnectTo = append(cfg.Net.ConnectTo, f.connectTo...)
	}
	if f.caFile != "" {
		cfg.Net.CAFile = f.caFile
	}
	if f.workers < 1 {
		return usagef("--workers %d: must be at least 1", f.workers)
	}
	for _, name := range f.disableSources {
		if !knownSource(name) {
			return usagef("--disable-source %q: unknown source (known: %s)", name, strings.Join(SourceNames, ", "))
		}
		off := false
		sc := cfg.Sources[name]
		sc.Enabled = &off
		if cfg.Sources == nil {
			cfg.Sources = map[string]SourceConfig{}
		}
		cfg.Sources[name] = sc
	}
	if f.disableWayback {
		off := false
		if cfg.Sources == nil {
			cfg.Sources = map[string]SourceConfig{}
		}
		sc := cfg.Sources["wayback"]
		sc.Enabled = &off
		cfg.Sources["wayback"] = sc
	}
	if len(f.tiers) > 0 {
		tiers, err := tiersFromFlags(cfg.Fallback.Tiers, f.tiers)
		if err != nil {
			return err
		}
		cfg.Fallback.Tiers = tiers
	}
	if f.resolverOrder != "" {
		order := splitList(f.resolverOrder)
		for _, name := range order {
			if !knownSource(name) {
				return usagef("--resolver-order: unknown source %q", name)
			}
		}
		cfg.Fallback.Tiers = reorderTiers(cfg.Fallback.Tiers, order)
	}
	if _, err := parseFormats(f.formats); err != nil {
		return err
	}
	return cfg.Validate()
}

// tiersFromFlags builds the tier order from --fallback-tier NAME[:parallel=N]
// flags; names are the configured tiers'.
func tiersFromFlags(known []TierConfig, flags []string) ([]TierConfig, error) {
	byName := map[string]TierConfig{}
	for _, t := range known {
		byName[t.Name] = t
	}
	var out []TierConfig
	for _, fl := range flags {
		name, opts, _ := strings.Cut(fl, ":")
		t, ok := byName[name]
		if !ok {
			names := make([]string, 0, len(known))
			for _, k := range known {
				names = append(names, k.Name)
			}
			return nil, usagef("--fallback-tier %q: unknown tier (known: %s)", fl, strings.Join(names, ", "))
		}
		if opts != "" {
			k, v, ok := strings.Cut(opts, "=")
			n, err := strconv.Atoi(v)
			if !ok || k != "parallel" || err != nil || n < 1 {
				return nil, usagef("--fallback-tier %q: want NAME or NAME:parallel=N with N ≥ 1", fl)
			}
			t.Parallel = n
		}
		out = append(out, t)
	}
	return out, nil
}

// reorderTiers moves the named sources to the front of the first tier, in
// the given order, keeping the rest where they were.
func reorderTiers(tiers []TierConfig, order []string) []TierConfig {
	first := map[string]bool{}
	for _, n := range order {
		first[n] = true
	}
	out := make([]TierConfig, 0, len(tiers))
	for i, t := range tiers {
		var rest []string
		for _, s := range t.Sources {
			if !first[s] {
				rest = append(rest, s)
			}
		}
		t.Sources = rest
		if i == 0 {
			t.Sources = append(append([]string{}, order...), rest...)
		}
		out = append(out, t)
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseFormats(s string) ([]fulltext.Kind, error) {
	var out []fulltext.Kind
	for _, p := range splitList(s) {
		switch k := fulltext.Kind(strings.ToLower(p)); k {
		case fulltext.KindPDF, fulltext.KindXML, fulltext.KindHTML:
			out = append(out, k)
		default:
			return nil, usagef("--formats: unknown kind %q (want pdf, xml, html)", p)
		}
	}
	if len(out) == 0 {
		return nil, usagef("--formats: empty")
	}
	return out, nil
}
