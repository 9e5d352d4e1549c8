// Command scenario drives the real oafetch binary (and, for P1, aria2c)
// against the simulated scholarly web with per-host limits lifted, and
// prints one comparable line per run and one median line per scenario.
// BENCHMARKS.md lists the scenarios and the exact commands.
//
//	go run ./bench/scenario -scenario p1 -n 5000 -size 102400 -runs 3
//	go run ./bench/scenario -scenario p2 -n 100000 -runs 3   (P5 runs on the same store)
//	go run ./bench/scenario -scenario p3 -n 1000000 -runs 3
//	go run ./bench/scenario -scenario p4 -n 8 -size 1073741824 -runs 3
//	go run ./bench/scenario -scenario p4flat -n 1000000 -active 10000 -runs 3
//
// The simulator runs in this process on a plain-HTTP loopback listener of
// our own, so that connections can be counted (P6: connection reuse);
// oafetch reaches it through --connect-to, aria2c through the IP literal
// (the bulk route answers both with the same bytes).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/simweb"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scenario:", err)
		os.Exit(1) //nolint:forbidigo // the benchmark driver's main exits on failure
	}
}

type opts struct {
	scenario string
	n        int
	size     int64
	workers  int
	runs     int
	bin      string
	dir      string
	keep     bool
	profile  string
	aria2    bool
	active   int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o opts
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	fs.StringVar(&o.scenario, "scenario", "p1", "p1 (throughput vs aria2c), p2 (bookkeeping; then p5 re-run), p3 (planning), p4 (memory), p4flat (worker RSS vs works planned: n/10 and n)")
	fs.IntVar(&o.n, "n", 0, "works (default per scenario: p1 5000, p2 100000, p3 1000000, p4 8, p4flat 1000000 planned)")
	fs.IntVar(&o.active, "active", 10000, "p4flat: jobs left to process in each store (the others are marked done)")
	fs.Int64Var(&o.size, "size", 0, "bytes per file (p1 102400, p4 1 GiB)")
	fs.IntVar(&o.workers, "workers", 0, "oafetch --workers and aria2c -j (p1 16, p2 16, p4 = n)")
	fs.IntVar(&o.runs, "runs", 3, "runs; the median is printed last")
	fs.StringVar(&o.bin, "bin", "", "oafetch binary (default: built from ./cmd/oafetch)")
	fs.StringVar(&o.dir, "dir", "", "work directory (default: a new temp directory, removed at the end)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.BoolVar(&o.aria2, "aria2", true, "p1: also run aria2c on the same URLs (false: oafetch only, for the CI smoke run)")
	fs.StringVar(&o.profile, "profile", "", "write CPU and heap profiles of each oafetch run into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	defaults := map[string][3]int64{"p1": {5000, 100 << 10, 16}, "p2": {100_000, 0, 16}, "p3": {1_000_000, 0, 0}, "p4": {8, 1 << 30, 8}, "p4flat": {1_000_000, 0, 16}}
	d, ok := defaults[o.scenario]
	if !ok {
		return fmt.Errorf("unknown -scenario %q", o.scenario)
	}
	o.n = int(cmpOr(int64(o.n), d[0]))
	o.size = cmpOr(o.size, d[1])
	o.workers = int(cmpOr(int64(o.workers), d[2]))
	if o.dir == "" {
		dir, err := os.MkdirTemp("", "oafetch-bench-")
		if err != nil {
			return err
		}
		o.dir = dir
	}
	if !o.keep {
		defer os.RemoveAll(o.dir)
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.dir, "oafetch")
		b := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "./cmd/oafetch")
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build oafetch: %w", err)
		}
	}
	e, err := startEnv(ctx, o)
	if err != nil {
		return err
	}
	defer e.close()
	switch o.scenario {
	case "p1":
		return e.p1(ctx, out)
	case "p2":
		return e.p2p5(ctx, out)
	case "p3":
		return e.p3(ctx, out)
	case "p4flat":
		return e.p4flat(ctx, out)
	default:
		return e.p4(ctx, out)
	}
}

func cmpOr(a, b int64) int64 {
	if a != 0 {
		return a
	}
	return b
}

// env is one simulator and one work directory.
type env struct {
	o     opts
	sim   *simweb.Server
	srv   *http.Server
	addr  string
	conns atomic.Int64
	reqs  atomic.Int64
	conf  string
	// profiles counts the profiled oafetch runs.
	profiles int
}

func startEnv(ctx context.Context, o opts) (*env, error) {
	sim, err := simweb.New(simweb.Config{Works: 3})
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &env{o: o, sim: sim, addr: ln.Addr().String()}
	e.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.reqs.Add(1)
			sim.Handler().ServeHTTP(w, r)
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				e.conns.Add(1)
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = e.srv.Serve(ln) }()
	e.conf = filepath.Join(o.dir, "bench.toml")
	if err := os.WriteFile(e.conf, []byte(benchConfig()), 0o644); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	_ = e.srv.Close()
	_ = e.sim.Close()
}

// benchConfig lifts every per-host limit (the simulator is ours) and
// points OpenAlex at plain HTTP so that every request reaches our counted
// listener.
func benchConfig() string {
	var b strings.Builder
	b.WriteString("mailto = \"bench@oafetch.example.org\"\n\n[net]\nmax_body_bytes = 4294967296\n\n")
	b.WriteString("[sources.openalex]\nbase_url = \"http://api.openalex.org\"\n\n")
	b.WriteString("[hosts.default]\nrate = \"1000000/s\"\nconcurrency = 64\n")
	hosts := []string{simweb.BulkHost}
	for h := range hostpolicy.DefaultHosts() {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[hosts.%q]\nrate = \"1000000/s\"\nconcurrency = 64\n", h)
	}
	return b.String()
}

// result is one timed process.
type result struct {
	wall   time.Duration
	cpu    time.Duration // user + system: what the run costs whatever the load
	maxRSS int64         // KiB
	out    string
}

func timed(ctx context.Context, name string, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var buf strings.Builder
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), out: buf.String()}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(buf.String()))
	}
	return r, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// oafetch runs one oafetch subcommand against the simulator.
func (e *env) oafetch(ctx context.Context, sub string, out string, extra ...string) (result, error) {
	args := append([]string{sub, "--out", out, "--config", e.conf, "--connect-to", ":80:" + e.addr, "-q"}, extra...)
	if e.o.profile != "" {
		e.profiles++
		base := filepath.Join(e.o.profile, fmt.Sprintf("%s-%s-%d", e.o.scenario, sub, e.profiles))
		args = append(args, "--cpuprofile", base+".cpu.pprof", "--memprofile", base+".mem.pprof")
	}
	return timed(ctx, e.o.bin, args...)
}

// exportCodes runs oafetch export and counts the records by code.
func (e *env) exportCodes(ctx context.Context, out string) (map[string]int, error) {
	cmd := exec.CommandContext(ctx, e.o.bin, "export", "--out", out, "--config", e.conf)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	codes := map[string]int{}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		codes[rec.Code]++
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return codes, sc.Err()
}

func writeLines(path string, n int, line func(i int) string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		_, _ = w.WriteString(line(i)) // bufio errors are sticky: Flush reports them
		_ = w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// bulkRecord is an OpenAlex work object whose only OA location is a
// direct PDF link on the bulk host: oafetch makes no API request for it.
func bulkRecord(i int, size int64) string {
	id := fmt.Sprintf("W%d", 7_000_000_000+i)
	return fmt.Sprintf(`{"id":"https://openalex.org/%s","title":"Bulk work %d","publication_year":2024,`+
		`"open_access":{"is_oa":true,"oa_status":"green"},"best_oa_location":{"is_oa":true,"pdf_url":%q,"version":"publishedVersion"}}`,
		id, i, simweb.BulkURL("http", size, id))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// p1: the same n files fetched by oafetch pull and by aria2c, back to back
// in each run, fresh directories each time.
func (e *env) p1(ctx context.Context, out io.Writer) error {
	aria, err := exec.LookPath("aria2c")
	if err != nil && e.o.aria2 {
		return errors.New("aria2c not found: run bench/compare.sh (it installs it), or pass -aria2=false")
	}
	in := filepath.Join(e.o.dir, "p1.jsonl")
	urls := filepath.Join(e.o.dir, "p1-urls.txt")
	if err := writeLines(in, e.o.n, func(i int) string { return bulkRecord(i, e.o.size) }); err != nil {
		return err
	}
	if err := writeLines(urls, e.o.n, func(i int) string {
		return fmt.Sprintf("http://%s/bulk/%d/W%d.pdf", e.addr, e.o.size, 7_000_000_000+i)
	}); err != nil {
		return err
	}
	var oaT, arT, oaC, arC []time.Duration
	var rss []int64
	for r := range e.o.runs {
		od := filepath.Join(e.o.dir, fmt.Sprintf("p1-oafetch-%d", r))
		ad := filepath.Join(e.o.dir, fmt.Sprintf("p1-aria2c-%d", r))
		c0, q0 := e.conns.Load(), e.reqs.Load()
		gfile := od + ".goroutines.txt"
		res, err := e.oafetch(ctx, "pull", od, "--input", in, "--workers", fmt.Sprint(e.o.workers), "--goroutineprofile", gfile)
		if err != nil {
			return err
		}
		goroutines, err := goroutinesAtExit(gfile)
		if err != nil {
			return err
		}
		exp, err := timed(ctx, e.o.bin, "export", "--out", od, "--config", e.conf)
		if err != nil {
			return err
		}
		total := res.wall + exp.wall
		conns, reqs := e.conns.Load()-c0, e.reqs.Load()-q0
		codes, err := e.exportCodes(ctx, od)
		if err != nil {
			return err
		}
		c1 := e.conns.Load()
		ar := result{wall: time.Nanosecond}
		got := int64(e.o.n) * e.o.size
		if e.o.aria2 {
			if ar, err = timed(ctx, aria, "-j", fmt.Sprint(e.o.workers), "-i", urls, "-d", ad, "-q", "--console-log-level=error"); err != nil {
				return err
			}
			if got, err = dirBytes(ad); err != nil {
				return err
			}
		}
		ariaConns := e.conns.Load() - c1
		oaT, arT, rss = append(oaT, total), append(arT, ar.wall), append(rss, res.maxRSS)
		oaC, arC = append(oaC, res.cpu+exp.cpu), append(arC, ar.cpu)
		fmt.Fprintf(out, "P1 run=%d n=%d size=%d workers=%d oafetch=%s (pull %s + export %s) oafetch_cpu=%s %s oafetch_ok=%d oafetch_maxrss=%dMiB requests=%d conns=%d reuse=%.1f%% goroutines_at_exit=%d aria2c_bytes=%d aria2c_conns=%d load=%s\n",
			r+1, e.o.n, e.o.size, e.o.workers, secs(total), secs(res.wall), secs(exp.wall), secs(res.cpu+exp.cpu),
			e.vsAria(total, ar.wall, res.cpu+exp.cpu, ar.cpu), codes["ok-pdf"], res.maxRSS>>10, reqs, conns,
			100*(1-float64(conns)/float64(max(reqs, 1))), goroutines, got, ariaConns, loadavg())
		if codes["ok-pdf"] != e.o.n || got != int64(e.o.n)*e.o.size {
			return fmt.Errorf("P1 run %d: oafetch ok-pdf %d, aria2c %d bytes; want %d files of %d bytes (codes %v)", r+1, codes["ok-pdf"], got, e.o.n, e.o.size, codes)
		}
		_ = os.RemoveAll(od)
		_ = os.RemoveAll(ad)
		_ = os.Remove(gfile)
	}
	mo, ma := median(oaT), median(arT)
	co, ca := median(oaC), median(arC)
	fmt.Fprintf(out, "P1 median of %d: n=%d size=%d oafetch=%s oafetch_cpu=%s %s oafetch_maxrss=%dMiB\n",
		e.o.runs, e.o.n, e.o.size, secs(mo), secs(co), e.vsAria(mo, ma, co, ca), medianInt(rss)>>10)
	return nil
}

// goroutinesAtExit reads the total of a goroutine profile written by
// oafetch --goroutineprofile: the goroutines alive when the pull ended
// (P6: it must not grow with the number of requests made).
func goroutinesAtExit(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(string(b), "goroutine profile: total %d", &n); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// vsAria formats aria2c's wall and CPU times and oafetch's ratios to them.
func (e *env) vsAria(wall, ariaWall, cpu, ariaCPU time.Duration) string {
	if !e.o.aria2 {
		return "aria2c=skipped"
	}
	return fmt.Sprintf("aria2c=%s ratio=%.2f aria2c_cpu=%s cpu_ratio=%.2f", secs(ariaWall), wall.Seconds()/ariaWall.Seconds(),
		secs(ariaCPU), cpu.Seconds()/max(ariaCPU.Seconds(), 1e-9))
}

func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".pdf") {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// p2p5: n OpenAlex ids the simulator does not know (one instant 404 each,
// no other source applies), pulled into a fresh store (P2); then the same
// pull again over the finished store (P5), which must send no request.
func (e *env) p2p5(ctx context.Context, out io.Writer) error {
	in := filepath.Join(e.o.dir, "p2-ids.txt")
	if err := writeLines(in, e.o.n, func(i int) string { return fmt.Sprintf("W%d", 8_000_000_000+i) }); err != nil {
		return err
	}
	var p2, p5, c2, c5 []time.Duration
	var rss2, rss5 []int64
	for r := range e.o.runs {
		od := filepath.Join(e.o.dir, fmt.Sprintf("p2-%d", r))
		c0, q0 := e.conns.Load(), e.reqs.Load()
		res, err := e.oafetch(ctx, "pull", od, "--input", in, "--workers", fmt.Sprint(e.o.workers))
		if err != nil {
			return err
		}
		conns, reqs := e.conns.Load()-c0, e.reqs.Load()-q0
		q1 := e.reqs.Load()
		again, err := e.oafetch(ctx, "pull", od, "--input", in, "--workers", fmt.Sprint(e.o.workers))
		if err != nil {
			return err
		}
		reqs5 := e.reqs.Load() - q1
		codes, err := e.exportCodes(ctx, od)
		if err != nil {
			return err
		}
		p2, p5 = append(p2, res.wall), append(p5, again.wall)
		c2, c5 = append(c2, res.cpu), append(c5, again.cpu)
		rss2, rss5 = append(rss2, res.maxRSS), append(rss5, again.maxRSS)
		fmt.Fprintf(out, "P2 run=%d n=%d workers=%d wall=%s cpu=%s per_work=%.3fms cpu_per_work=%.3fms requests=%d conns=%d reuse=%.1f%% maxrss=%dMiB codes=%v load=%s\n",
			r+1, e.o.n, e.o.workers, secs(res.wall), secs(res.cpu), 1000*res.wall.Seconds()/float64(e.o.n), 1000*res.cpu.Seconds()/float64(e.o.n), reqs, conns,
			100*(1-float64(conns)/float64(max(reqs, 1))), res.maxRSS>>10, codes, loadavg())
		fmt.Fprintf(out, "P5 run=%d n=%d wall=%s cpu=%s requests=%d maxrss=%dMiB load=%s\n",
			r+1, e.o.n, secs(again.wall), secs(again.cpu), reqs5, again.maxRSS>>10, loadavg())
		if reqs5 != 0 {
			return fmt.Errorf("P5 run %d: the second pull sent %d requests", r+1, reqs5)
		}
		_ = os.RemoveAll(od)
	}
	m2, m5 := median(p2), median(p5)
	fmt.Fprintf(out, "P2 median of %d: n=%d wall=%s per_work=%.3fms cpu=%s cpu_per_work=%.3fms maxrss=%dMiB\n", e.o.runs, e.o.n, secs(m2),
		1000*m2.Seconds()/float64(e.o.n), secs(median(c2)), 1000*median(c2).Seconds()/float64(e.o.n), medianInt(rss2)>>10)
	fmt.Fprintf(out, "P5 median of %d: n=%d wall=%s cpu=%s maxrss=%dMiB\n", e.o.runs, e.o.n, secs(m5), secs(median(c5)), medianInt(rss5)>>10)
	return nil
}

// p3: n DOIs (in several spellings) planned from a file into a fresh
// SQLite store, then planned again (all known).
func (e *env) p3(ctx context.Context, out io.Writer) error {
	in := filepath.Join(e.o.dir, "p3-ids.txt")
	spell := []string{"10.5555/p3.%d", "doi:10.5555/P3.%d", "https://doi.org/10.5555/p3.%d"}
	if err := writeLines(in, e.o.n, func(i int) string { return fmt.Sprintf(spell[i%len(spell)], i) }); err != nil {
		return err
	}
	var first, again, cf, ca []time.Duration
	var rss []int64
	for r := range e.o.runs {
		od := filepath.Join(e.o.dir, fmt.Sprintf("p3-%d", r))
		a, err := e.oafetch(ctx, "plan", od, "--input", in)
		if err != nil {
			return err
		}
		b, err := e.oafetch(ctx, "plan", od, "--input", in)
		if err != nil {
			return err
		}
		if !strings.Contains(b.out, fmt.Sprintf("0 new, %d already known", e.o.n)) {
			return fmt.Errorf("P3 run %d: re-plan said %q", r+1, strings.TrimSpace(b.out))
		}
		first, again, rss = append(first, a.wall), append(again, b.wall), append(rss, a.maxRSS)
		cf, ca = append(cf, a.cpu), append(ca, b.cpu)
		fmt.Fprintf(out, "P3 run=%d n=%d plan=%s (cpu %s) replan=%s (cpu %s) maxrss=%dMiB (%s) load=%s\n",
			r+1, e.o.n, secs(a.wall), secs(a.cpu), secs(b.wall), secs(b.cpu), a.maxRSS>>10, strings.TrimSpace(a.out), loadavg())
		_ = os.RemoveAll(od)
	}
	fmt.Fprintf(out, "P3 median of %d: n=%d plan=%s (cpu %s) replan=%s (cpu %s) maxrss=%dMiB\n", e.o.runs, e.o.n,
		secs(median(first)), secs(median(cf)), secs(median(again)), secs(median(ca)), medianInt(rss)>>10)
	return nil
}

// p4: n concurrent downloads of size bytes; the peak RSS of oafetch.
func (e *env) p4(ctx context.Context, out io.Writer) error {
	in := filepath.Join(e.o.dir, "p4.jsonl")
	if err := writeLines(in, e.o.n, func(i int) string { return bulkRecord(i, e.o.size) }); err != nil {
		return err
	}
	var ws []time.Duration
	var rss []int64
	for r := range e.o.runs {
		od := filepath.Join(e.o.dir, fmt.Sprintf("p4-%d", r))
		res, err := e.oafetch(ctx, "pull", od, "--input", in, "--workers", fmt.Sprint(e.o.workers))
		if err != nil {
			return err
		}
		codes, err := e.exportCodes(ctx, od)
		if err != nil {
			return err
		}
		if codes["ok-pdf"] != e.o.n {
			return fmt.Errorf("P4 run %d: codes %v", r+1, codes)
		}
		ws, rss = append(ws, res.wall), append(rss, res.maxRSS)
		limit := 64<<10 + 256*int64(e.o.workers)
		fmt.Fprintf(out, "P4 run=%d n=%d size=%d workers=%d wall=%s cpu=%s maxrss=%dMiB target=%dMiB throughput=%.0fMiB/s load=%s\n",
			r+1, e.o.n, e.o.size, e.o.workers, secs(res.wall), secs(res.cpu), res.maxRSS>>10, limit>>10,
			float64(int64(e.o.n)*e.o.size)/res.wall.Seconds()/(1<<20), loadavg())
		_ = os.RemoveAll(od)
	}
	fmt.Fprintf(out, "P4 median of %d: n=%d size=%d wall=%s maxrss=%dMiB\n", e.o.runs, e.o.n, e.o.size, secs(median(ws)), medianInt(rss)>>10)
	return nil
}
