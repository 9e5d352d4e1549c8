package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigFile(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "c.toml", `mailto = "you@example.org"
[net]
allow_private_addresses = true
connect_to = [":443:127.0.0.1:8443"]
[jobs]
lease_ttl = "30s"
[hosts."api.openalex.org"]
rate = "10/s"
concurrency = 4
[sources.unpaywall]
enabled = false
base_url = "https://mirror.example.org/unpaywall"
[[fallback.tiers]]
name = "only"
parallel = 2
sources = ["openalex", "arxiv"]
`)
	cfg := DefaultConfig()
	if err := LoadConfigFile(&cfg, p); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Mailto != "you@example.org" || !cfg.Net.AllowPrivateAddresses || time.Duration(cfg.Jobs.LeaseTTL) != 30*time.Second {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg.Hosts["api.openalex.org"].Concurrency != 4 || cfg.Hosts["default"].Rate != "1/s" {
		t.Errorf("hosts = %+v", cfg.Hosts)
	}
	if cfg.SourceEnabled("unpaywall") || !cfg.SourceEnabled("arxiv") {
		t.Errorf("enabled flags wrong")
	}
	if len(cfg.Fallback.Tiers) != 1 || cfg.Fallback.Tiers[0].Name != "only" {
		t.Errorf("tiers = %+v (file tiers must replace the defaults)", cfg.Fallback.Tiers)
	}
}

func TestLoadConfigFileUnknownKeyNamesLine(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "bad.toml", "mailto = \"a@b.org\"\n\n[net]\nuser_agent = \"x\"\nmax_bdy_bytes = 5\n")
	cfg := DefaultConfig()
	err := LoadConfigFile(&cfg, p)
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	if !strings.HasSuffix(ce.Where, "bad.toml:5") || !strings.Contains(err.Error(), "net.max_bdy_bytes") {
		t.Errorf("err = %v, want file:5 and the key", err)
	}
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	err := ApplyEnv(&cfg, []string{
		"OAFETCH_MAILTO=env@example.org",
		"OAFETCH_JOBS_LEASE_TTL=90s",
		"OAFETCH_NET_ALLOW_PRIVATE_ADDRESSES=true",
		"OAFETCH_NET_CONNECT_TO=:443:127.0.0.1:1,:80:127.0.0.1:2",
		"OAFETCH_FALLBACK_MAX_ATTEMPTS=7",
		"OAFETCH_SLO_COMPLETION_PERCENT=97.5",
		"OAFETCH_SLO_LEASE_ACQUIRE_P99=250ms",
		"OAFETCH_SOURCES_CORE_API_KEY=secret",
		"OAFETCH_DB=ignored.sqlite",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mailto != "env@example.org" || time.Duration(cfg.Jobs.LeaseTTL) != 90*time.Second || !cfg.Net.AllowPrivateAddresses ||
		len(cfg.Net.ConnectTo) != 2 || cfg.Fallback.MaxAttempts != 7 || cfg.Sources["core"].APIKey != "secret" ||
		cfg.SLO.CompletionPercent != 97.5 || time.Duration(cfg.SLO.LeaseAcquireP99) != 250*time.Millisecond {
		t.Errorf("cfg = %+v", cfg)
	}
	for _, bad := range []string{"OAFETCH_NET_NOPE=1", "OAFETCH_JOBS_MAX_ATTEMPTS=many", "OAFETCH_SOURCES_CORE_NOPE=1"} {
		cfg := DefaultConfig()
		err := ApplyEnv(&cfg, []string{bad})
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(ce.Where, strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("%s: err = %v, want a ConfigError naming the variable", bad, err)
		}
	}
}

func TestValidateNamesKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Config)
		where string
	}{
		{"bad rate", func(c *Config) { c.Hosts["x.org"] = HostConfig{Rate: "fast"} }, `hosts."x.org".rate`},
		{"unknown source", func(c *Config) { c.Sources = map[string]SourceConfig{"scihub": {}} }, "sources.scihub"},
		{"tier source", func(c *Config) { c.Fallback.Tiers[0].Sources = append(c.Fallback.Tiers[0].Sources, "nope") }, "fallback.tiers[0].sources"},
		{"dup source", func(c *Config) { c.Fallback.Tiers[1].Sources = append(c.Fallback.Tiers[1].Sources, "arxiv") }, "fallback.tiers[1].sources"},
		{"attempts", func(c *Config) { c.Jobs.MaxAttempts = 0 }, "jobs.max_attempts"},
		{"slo completion", func(c *Config) { c.SLO.CompletionPercent = 120 }, "slo.completion_percent"},
		{"slo replay", func(c *Config) { c.SLO.ReplayPercentMax = -1 }, "slo.replay_percent_max"},
		{"slo latency", func(c *Config) { c.SLO.LeaseAcquireP99 = 0 }, "slo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			tt.edit(&cfg)
			var ce *ConfigError
			if err := cfg.Validate(); !errors.As(err, &ce) || ce.Where != tt.where {
				t.Errorf("Validate() = %v, want error at %s", err, tt.where)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"10/s": 10, "1/3s": 1.0 / 3, "0.4/s": 0.4, "30/m": 0.5, "1/500ms": 2} {
		got, err := ParseRate(in)
		if err != nil || got < want*0.999 || got > want*1.001 {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "10", "x/s", "1/x", "-1/s", "1/0s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q): want error", in)
		}
	}
}

func TestTierFlags(t *testing.T) {
	t.Parallel()
	tiers, err := tiersFromFlags(DefaultTiers(), []string{"landing_scrape", "direct_oa:parallel=4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tiers) != 2 || tiers[0].Name != "landing_scrape" || tiers[1].Parallel != 4 {
		t.Errorf("tiers = %+v", tiers)
	}
	for _, bad := range []string{"nope", "direct_oa:parallel=0", "direct_oa:par=2"} {
		if _, err := tiersFromFlags(DefaultTiers(), []string{bad}); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
	re := reorderTiers(DefaultTiers(), []string{"doi", "arxiv"})
	if got := strings.Join(re[0].Sources[:3], ","); got != "doi,arxiv,openalex" {
		t.Errorf("reordered first tier = %v", re[0].Sources)
	}
	for _, s := range re[1].Sources {
		if s == "doi" {
			t.Errorf("doi still in second tier: %v", re[1].Sources)
		}
	}
}
