package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole configuration (DESIGN.md §5). It is built once in
// main — defaults < file < environment < flags — validated, and passed down
// as small per-component configs.
type Config struct {
	Mailto   string                  `toml:"mailto"`
	Net      NetConfig               `toml:"net"`
	Jobs     JobsConfig              `toml:"jobs"`
	Hosts    map[string]HostConfig   `toml:"hosts"`
	Sources  map[string]SourceConfig `toml:"sources"`
	Fallback FallbackConfig          `toml:"fallback"`
	SLO      SLOConfig               `toml:"slo"`
	S3       S3Config                `toml:"s3"`

	// dialControl is appOptions.dialControl (tests only).
	dialControl func(network, address string, c syscall.RawConn) error
}

// SLOConfig is the [slo] table: the objectives `oafetch report` checks
// (docs/operations.md explains each).
type SLOConfig struct {
	// CompletionPercent: least share of jobs ending with a decided outcome.
	CompletionPercent float64 `toml:"completion_percent"`
	// TimeToTerminalP95: longest p95 from planning to a terminal state.
	TimeToTerminalP95 Duration `toml:"time_to_terminal_p95"`
	// LeaseAcquireP99: longest p99 of the job store's Claim call.
	LeaseAcquireP99 Duration `toml:"lease_acquire_p99"`
	// ReplayPercentMax: largest share of claimed jobs that replay an
	// interrupted operation.
	ReplayPercentMax float64 `toml:"replay_percent_max"`
}

// S3Config is the [s3] table: how to reach the object store of an
// `--out s3://bucket/prefix`. Credentials never live in the config: they
// come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// ~/.aws/credentials or the instance role.
type S3Config struct {
	// Endpoint URL; defaults to AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
	// then https://s3.amazonaws.com.
	Endpoint string `toml:"endpoint"`
	// Region; defaults to AWS_REGION, AWS_DEFAULT_REGION, then us-east-1.
	Region string `toml:"region"`
	// PathStyle addresses buckets as endpoint/bucket (MinIO, versitygw,
	// Ceph); false lets the client choose (virtual-host style on AWS).
	PathStyle bool `toml:"path_style"`
	// PartSizeMiB is the multipart part size, the memory each download in
	// flight buffers. Defaults to 8; at least 5.
	PartSizeMiB int `toml:"part_size_mib"`
}

// NetConfig is the [net] table.
type NetConfig struct {
	UserAgent             string   `toml:"user_agent"`
	AllowPrivateAddresses bool     `toml:"allow_private_addresses"`
	MaxBodyBytes          int64    `toml:"max_body_bytes"`
	ConnectTo             []string `toml:"connect_to"`
	CAFile                string   `toml:"ca_file"`
}

// JobsConfig is the [jobs] table.
type JobsConfig struct {
	LeaseTTL    Duration `toml:"lease_ttl"`
	MaxAttempts int      `toml:"max_attempts"`
}

// HostConfig is one [hosts."name"] table; [hosts.default] applies to every
// host without its own.
type HostConfig struct {
	Rate        string `toml:"rate"`
	Concurrency int    `toml:"concurrency"`
}

// SourceConfig is one [sources.NAME] table.
type SourceConfig struct {
	Enabled *bool  `toml:"enabled"`
	BaseURL string `toml:"base_url"`
	APIKey  string `toml:"api_key"`
}

// FallbackConfig is the [fallback] table.
type FallbackConfig struct {
	TotalTimeoutMS int          `toml:"total_timeout_ms"`
	MaxAttempts    int          `toml:"max_attempts"`
	MaxConcurrent  int          `toml:"max_concurrent"`
	Tiers          []TierConfig `toml:"tiers"`
}

// TierConfig is one [[fallback.tiers]] entry.
type TierConfig struct {
	Name     string   `toml:"name"`
	Parallel int      `toml:"parallel"`
	Sources  []string `toml:"sources"`
}

// Duration is a time.Duration written as "60s" in TOML and the environment.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultTiers is the default cascade (DESIGN.md §5).
func DefaultTiers() []TierConfig {
	return []TierConfig{
		{Name: "direct_oa", Parallel: 2, Sources: []string{"openalex", "unpaywall", "arxiv", "pmc", "europepmc"}},
		{Name: "doi_follow", Parallel: 1, Sources: []string{"crossref", "doi", "semanticscholar", "core", "doaj", "zenodo", "hal", "osf", "figshare"}},
		{Name: "landing_scrape", Parallel: 1, Sources: []string{"landing"}},
		{Name: "archive", Parallel: 1, Sources: []string{"wayback"}},
	}
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Net:   NetConfig{MaxBodyBytes: 256 << 20},
		Jobs:  JobsConfig{LeaseTTL: Duration(60 * time.Second), MaxAttempts: 5},
		Hosts: map[string]HostConfig{"default": {Rate: "1/s", Concurrency: 1}},
		Fallback: FallbackConfig{
			TotalTimeoutMS: 120000, MaxAttempts: 20, MaxConcurrent: 3, Tiers: DefaultTiers(),
		},
		SLO: SLOConfig{
			CompletionPercent: 99.5, TimeToTerminalP95: Duration(2 * time.Minute),
			LeaseAcquireP99: Duration(100 * time.Millisecond), ReplayPercentMax: 5,
		},
	}
}

// SourceNames are the source names of the contract (DESIGN.md §5).
var SourceNames = []string{
	"openalex", "unpaywall", "crossref", "arxiv", "pmc", "europepmc", "doi", "landing", "wayback",
	"semanticscholar", "core", "doaj", "zenodo", "hal", "osf", "figshare",
}

func knownSource(name string) bool {
	for _, n := range SourceNames {
		if n == name {
			return true
		}
	}
	return false
}

// ConfigError is a configuration problem; it names the file and line, the
// environment variable, or the flag.
type ConfigError struct {
	Where string
	Err   error
}

func (e *ConfigError) Error() string { return e.Where + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfigFile merges the TOML file at path over cfg. Unknown keys are an
// error naming the key and the line.
func LoadConfigFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ConfigError{Where: path, Err: err}
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	// Tiers from the file replace the defaults rather than merging by index.
	if bytes.Contains(data, []byte("[[fallback.tiers]]")) {
		cfg.Fallback.Tiers = nil
	}
	if err := dec.Decode(cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) && len(strict.Errors) > 0 {
			e := strict.Errors[0]
			row, _ := e.Position()
			return &ConfigError{Where: fmt.Sprintf("%s:%d", path, row), Err: fmt.Errorf("unknown key %q", strings.Join(e.Key(), "."))}
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return &ConfigError{Where: fmt.Sprintf("%s:%d", path, row), Err: errors.New(de.Error())}
		}
		return &ConfigError{Where: path, Err: err}
	}
	return nil
}

// ApplyEnv merges OAFETCH_<SECTION>_<KEY> variables over cfg (OAFETCH_MAILTO
// for top-level keys; OAFETCH_SOURCES_<NAME>_<KEY> for source tables).
// Variables that look like ours but name no key are an error.
func ApplyEnv(cfg *Config, environ []string) error {
	fields := map[string]reflect.Value{}
	collectEnvFields(reflect.ValueOf(cfg).Elem(), "OAFETCH", fields)
	for _, name := range SourceNames {
		prefix := "OAFETCH_SOURCES_" + strings.ToUpper(name) + "_"
		for _, kv := range environ {
			if strings.HasPrefix(kv, prefix) {
				if cfg.Sources == nil {
					cfg.Sources = map[string]SourceConfig{}
				}
				sc := cfg.Sources[name]
				k, v, _ := strings.Cut(strings.TrimPrefix(kv, prefix), "=")
				sv := reflect.ValueOf(&sc).Elem()
				f, ok := fieldByTag(sv, strings.ToLower(k))
				if !ok {
					return &ConfigError{Where: "environment " + prefix + k, Err: errors.New("unknown key")}
				}
				if err := setFromString(f, v); err != nil {
					return &ConfigError{Where: "environment " + prefix + k, Err: err}
				}
				cfg.Sources[name] = sc
			}
		}
	}
	// Names the environment contract reserves for things other than keys.
	// OAFETCH_FAILPOINTS is read by internal/failpoint (the torture harness).
	reserved := map[string]bool{"OAFETCH_DB": true, "OAFETCH_CONFIG": true, "OAFETCH_OUT": true, "OAFETCH_FAILPOINTS": true}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "OAFETCH_") || reserved[k] || strings.HasPrefix(k, "OAFETCH_SOURCES_") || strings.HasPrefix(k, "OAFETCH_TEST") {
			continue
		}
		f, ok := fields[k]
		if !ok {
			return &ConfigError{Where: "environment " + k, Err: errors.New("unknown key")}
		}
		if err := setFromString(f, v); err != nil {
			return &ConfigError{Where: "environment " + k, Err: err}
		}
	}
	return nil
}

func collectEnvFields(v reflect.Value, prefix string, out map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if tag == "" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(Duration(0)) {
			collectEnvFields(f, name, out)
			continue
		}
		switch f.Kind() {
		case reflect.Map:
			continue
		case reflect.Slice:
			if f.Type().Elem().Kind() != reflect.String {
				continue
			}
		}
		out[name] = f
	}
}

func fieldByTag(v reflect.Value, tag string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("toml"), ",")[0] == tag {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func setFromString(f reflect.Value, s string) error {
	if f.Type() == reflect.TypeOf(Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Float64:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.SetFloat(v)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	case reflect.Pointer:
		if f.Type().Elem().Kind() == reflect.Bool {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return err
			}
			f.Set(reflect.ValueOf(&b))
			return nil
		}
		return fmt.Errorf("unsupported type %s", f.Type())
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// Validate checks cross-field rules and names the offending key.
func (c *Config) Validate() error {
	if c.Jobs.LeaseTTL <= 0 {
		return &ConfigError{Where: "jobs.lease_ttl", Err: errors.New("must be positive")}
	}
	if c.Jobs.MaxAttempts < 1 {
		return &ConfigError{Where: "jobs.max_attempts", Err: errors.New("must be at least 1")}
	}
	if c.Net.MaxBodyBytes < 1024 {
		return &ConfigError{Where: "net.max_body_bytes", Err: errors.New("must be at least 1024")}
	}
	for host, h := range c.Hosts {
		if _, err := ParseRate(h.Rate); h.Rate != "" && err != nil {
			return &ConfigError{Where: fmt.Sprintf("hosts.%q.rate", host), Err: err}
		}
		if h.Concurrency < 0 {
			return &ConfigError{Where: fmt.Sprintf("hosts.%q.concurrency", host), Err: errors.New("must not be negative")}
		}
	}
	names := make([]string, 0, len(c.Sources))
	for n := range c.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !knownSource(n) {
			return &ConfigError{Where: "sources." + n, Err: fmt.Errorf("unknown source (known: %s)", strings.Join(SourceNames, ", "))}
		}
	}
	if p := c.SLO.CompletionPercent; p <= 0 || p > 100 {
		return &ConfigError{Where: "slo.completion_percent", Err: errors.New("must be in (0, 100]")}
	}
	if p := c.SLO.ReplayPercentMax; p <= 0 || p > 100 {
		return &ConfigError{Where: "slo.replay_percent_max", Err: errors.New("must be in (0, 100]")}
	}
	if c.SLO.TimeToTerminalP95 <= 0 || c.SLO.LeaseAcquireP99 <= 0 {
		return &ConfigError{Where: "slo", Err: errors.New("time_to_terminal_p95 and lease_acquire_p99 must be positive")}
	}
	f := c.Fallback
	if f.TotalTimeoutMS <= 0 || f.MaxAttempts <= 0 || f.MaxConcurrent <= 0 {
		return &ConfigError{Where: "fallback", Err: errors.New("total_timeout_ms, max_attempts and max_concurrent must be positive")}
	}
	if len(f.Tiers) == 0 {
		return &ConfigError{Where: "fallback.tiers", Err: errors.New("at least one tier is needed")}
	}
	seen := map[string]bool{}
	for i, t := range f.Tiers {
		where := fmt.Sprintf("fallback.tiers[%d]", i)
		if t.Name == "" {
			return &ConfigError{Where: where + ".name", Err: errors.New("empty")}
		}
		if t.Parallel < 1 {
			return &ConfigError{Where: where + ".parallel", Err: errors.New("must be at least 1")}
		}
		for _, s := range t.Sources {
			if !knownSource(s) {
				return &ConfigError{Where: where + ".sources", Err: fmt.Errorf("unknown source %q", s)}
			}
			if seen[s] {
				return &ConfigError{Where: where + ".sources", Err: fmt.Errorf("source %q is in two tiers", s)}
			}
			seen[s] = true
		}
	}
	return nil
}

// SourceEnabled reports whether the source is enabled (default true).
func (c *Config) SourceEnabled(name string) bool {
	sc, ok := c.Sources[name]
	return !ok || sc.Enabled == nil || *sc.Enabled
}

// ParseRate parses "10/s", "1/3s", "0.4/s", "30/m" into requests per second.
func ParseRate(s string) (float64, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("rate %q: want N/s, N/m or N/<duration>", s)
	}
	count, err := strconv.ParseFloat(n, 64)
	if err != nil || count < 0 {
		return 0, fmt.Errorf("rate %q: bad count", s)
	}
	switch per {
	case "s":
		per = "1s"
	case "m":
		per = "1m"
	case "h":
		per = "1h"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: bad period", s)
	}
	return count / d.Seconds(), nil
}
