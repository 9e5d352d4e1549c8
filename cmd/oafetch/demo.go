package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/simweb"
)

// demoConfig lifts per-host limits, the documented API limits included:
// the demo talks only to our own simulator on loopback, never to a real
// publisher or API.
func demoConfig() string {
	var b strings.Builder
	b.WriteString("# written by oafetch demo: the simulated web is ours, so per-host limits are lifted\n")
	b.WriteString("mailto = \"demo@oafetch.example.org\"\n\n[sources.core]\napi_key = \"demo-key\"\n\n[hosts.default]\nrate = \"1000/s\"\nconcurrency = 8\n")
	hosts := make([]string, 0)
	for h := range hostpolicy.DefaultHosts() {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[hosts.%q]\nrate = \"1000/s\"\nconcurrency = 8\n", h)
	}
	return b.String()
}

func (a *app) demoCommand() *cobra.Command {
	var (
		works   int
		seed    int64
		out     string
		workers int
	)
	cmd := &cobra.Command{
		Use:   "demo [--works N] [--out DIR]",
		Short: "A real pull against the built-in simulated scholarly web",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			srv, err := simweb.New(simweb.Config{Works: works, Seed: seed})
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			defer srv.Close()
			if err := srv.Start(ctx, "127.0.0.1:0", "127.0.0.1:0"); err != nil {
				return fmt.Errorf("demo: start simulated web: %w", err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return usagef("demo: --out %s: %w", out, err)
			}
			ca := filepath.Join(out, "sim-ca.pem")
			ids := filepath.Join(out, "demo-ids.txt")
			conf := filepath.Join(out, "demo.toml")
			if err := srv.WriteCA(ca); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if err := writeWorldInputs(srv.World(), ids); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if err := os.WriteFile(conf, []byte(demoConfig()), 0o644); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			stdout := cmd.OutOrStdout()
			fmt.Fprintf(stdout, "simulated scholarly web on loopback: %d works; pulling into %s\n\n", len(srv.World().Works), out)
			args := []string{"pull", "--input", ids, "--out", out, "--config", conf, "--ca-file", ca,
				"--workers", fmt.Sprint(workers), "--log-format", "text", "-q"}
			for _, ct := range srv.ConnectTo() {
				args = append(args, "--connect-to", ct)
			}
			start := time.Now()
			sub := &app{stdin: a.stdin, stdout: stdout, stderr: a.stderr, environ: a.environ, stop: a.stop}
			root := sub.rootCommand()
			root.SetArgs(args)
			root.SetOut(stdout)
			root.SetErr(a.stderr)
			err = root.ExecuteContext(ctx)
			defer sub.close()
			if err != nil {
				return err
			}
			store, err := sub.openJobStore(ctx, &storeFlags{out: out}, DefaultConfig())
			if err != nil {
				return err
			}
			return checkDemo(cmd, stdout, srv.World(), store, time.Since(start))
		},
	}
	f := cmd.Flags()
	f.IntVar(&works, "works", 200, "works in the simulated world")
	f.Int64Var(&seed, "seed", 1, "world seed")
	f.StringVar(&out, "out", "oafetch-demo", "output directory (job store and full texts)")
	f.IntVar(&workers, "workers", 16, "jobs processed at once")
	return cmd
}

// checkDemo compares every work's code with what the simulated world says a
// correct run must produce, and prints the verdict by route.
func checkDemo(cmd *cobra.Command, out io.Writer, world *simweb.World, store fulltext.JobStore, took time.Duration) error {
	type row struct{ ok, bad int }
	byRoute := map[string]*row{}
	var mismatches []string
	for _, sw := range world.Works {
		w, err := fulltext.ParseWork(sw.Input)
		if err != nil {
			continue
		}
		j, err := store.Get(cmd.Context(), w.ID)
		r := byRoute[string(sw.Route)]
		if r == nil {
			r = &row{}
			byRoute[string(sw.Route)] = r
		}
		got, src := fulltext.Code(""), ""
		if err == nil {
			got = j.Code
			if j.Result != nil {
				src = j.Result.Source
			}
		}
		okCode := got == sw.Want || (sw.Want.Outcome() == fulltext.OutcomeOK && got == fulltext.CodeOKExisting)
		if okCode && (got.Outcome() != fulltext.OutcomeOK || wantsSource(sw, src)) {
			r.ok++
			continue
		}
		r.bad++
		mismatches = append(mismatches, fmt.Sprintf("%s (%s): want %s from %s, got %s from %s", sw.Input, sw.Route, sw.Want, sw.WantSource, got, src))
	}
	routes := make([]string, 0, len(byRoute))
	for k := range byRoute {
		routes = append(routes, k)
	}
	sort.Strings(routes)
	fmt.Fprintf(out, "\ndemo check (every work's code against the simulated world's truth):\n")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "route\tas expected\tunexpected")
	for _, k := range routes {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", k, byRoute[k].ok, byRoute[k].bad)
	}
	tw.Flush()
	if len(mismatches) > 0 {
		fmt.Fprintf(out, "\n%d works ended unexpectedly:\n  %s\n", len(mismatches), strings.Join(mismatches, "\n  "))
		return fmt.Errorf("demo: %d of %d works ended with an unexpected code", len(mismatches), len(world.Works))
	}
	fmt.Fprintf(out, "\nall %d works ended as expected in %s\n", len(world.Works), took.Round(time.Millisecond))
	return nil
}

// wantsSource reports whether src may legitimately have won sw.
func wantsSource(sw simweb.Work, src string) bool {
	if src == sw.WantSource || sw.WantSource == "" {
		return true
	}
	for _, s := range sw.AltSources {
		if s == src {
			return true
		}
	}
	return false
}
