package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/simweb"
)

// dialGuard is the last-resort test hook under the dialer: only the
// simulated web's own listeners may be dialed; any other address is
// refused before the socket connects (no packet leaves) and recorded, so a
// broken private-address guard fails the test instead of sending traffic.
type dialGuard struct {
	allowed map[netip.AddrPort]bool

	mu      sync.Mutex
	dials   int
	refused []string
}

func (g *dialGuard) Control(_, address string, _ syscall.RawConn) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !g.allowed[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] {
		g.refused = append(g.refused, address)
		return fmt.Errorf("test guard: refusing dial to %s", address)
	}
	g.dials++
	return nil
}

func (g *dialGuard) report() (int, []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dials, append([]string(nil), g.refused...)
}

// TestHostileWeb pulls every hostile work of the simulated web through the
// real command line, with the private-address guard on (no
// net.allow_private_addresses; only the --connect-to targets are trusted):
// every case ends with its code, no dial reaches anything but the
// simulated web, nothing is written outside the store, and no temp file
// is left behind.
func TestHostileWeb(t *testing.T) {
	t.Parallel()
	// Seven cycles of the routes: the private-redirect and private-link
	// works then point at each of their four private targets with seed 2
	// (checked below: another route count may need another seed); the
	// other routes are pulled once.
	cycle := len(simweb.Routes()) + len(simweb.HostileRoutes())
	srv, err := simweb.New(simweb.Config{Works: 3 + 7*cycle, Seed: 2, Hostile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := srv.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sim.toml")
	// One attempt per work (a truncated body is retryable: no backoff wait
	// here), and a body cap the gzip bomb crosses quickly.
	cfg := demoConfig() + "\n[jobs]\nmax_attempts = 1\n\n[net]\nmax_body_bytes = 16777216\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	guard := &dialGuard{allowed: map[netip.AddrPort]bool{}}
	flags := []string{"--ca-file", ca, "--config", conf}
	for _, ct := range srv.ConnectTo() {
		flags = append(flags, "--connect-to", ct)
		parts := strings.SplitN(ct, ":", 3) // ":443:127.0.0.1:PORT"
		guard.allowed[netip.MustParseAddrPort(parts[2])] = true
	}

	var ids strings.Builder
	want := map[string]simweb.Work{}
	routes := map[simweb.Route]int{}
	targets := map[simweb.Route]bool{}
	for _, wk := range srv.World().Works {
		if !strings.HasPrefix(string(wk.Route), "hostile-") {
			continue
		}
		// Every route once; the private ones in every cycle (each cycle
		// points them at another private target).
		private := wk.Route == simweb.RoutePrivateRedirect || wk.Route == simweb.RoutePrivateLink
		if routes[wk.Route] > 0 && !private {
			continue
		}
		ids.WriteString(wk.Input + "\n")
		w, err := fulltext.ParseWork(wk.Input)
		if err != nil {
			t.Fatal(err)
		}
		want[w.ID.String()] = wk
		routes[wk.Route]++
		if private {
			targets[wk.Route+simweb.Route(rune('0'+wk.Index()%4))] = true // simweb's privateTargets[n%4]
		}
	}
	if len(targets) != 8 {
		t.Fatalf("the private-redirect and private-link works meet %d of their 2×4 private targets", len(targets))
	}
	if len(routes) != len(simweb.HostileRoutes()) {
		t.Fatalf("the world has %d hostile routes, want %d", len(routes), len(simweb.HostileRoutes()))
	}
	input := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(input, []byte(ids.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		var o, e bytes.Buffer
		code := runWith(args, strings.NewReader(""), &o, &e, []string{"HOME=" + t.TempDir()}, appOptions{dialControl: guard.Control})
		return code, o.String(), e.String()
	}
	args := append([]string{"pull", "--input", input, "--out", out, "--workers", "4", "-q"}, flags...)
	if code, stdout, stderr := cli(args...); code != exitOK {
		t.Fatalf("pull exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, exp, stderr := cli("export", "--out", out)
	if code != exitOK {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	recs := readExport(t, exp)
	for id, wk := range want {
		r, ok := recs[id]
		if !ok {
			t.Errorf("%s (%s): no export record", id, wk.Route)
			continue
		}
		if r.Code == nil || fulltext.Code(*r.Code) != wk.Want {
			_, why, _ := cli("why", id, "--out", out)
			t.Errorf("%s (%s): code %s, want %s\n%s", id, wk.Route, deref(r.Code), wk.Want, why)
			continue
		}
		if wk.Want.Outcome() != fulltext.OutcomeOK {
			if r.Path != nil {
				t.Errorf("%s (%s): a %s work has a path", id, wk.Route, wk.Want)
			}
			continue
		}
		if r.Path == nil {
			t.Errorf("%s (%s): ok without a path", id, wk.Route)
			continue
		}
		if !strings.HasPrefix(*r.Path, "pdf/") || strings.Contains(*r.Path, "..") {
			t.Errorf("%s (%s): path %q is not ours", id, wk.Route, *r.Path)
		}
		data, err := os.ReadFile(filepath.Join(out, *r.Path))
		if err != nil || !bytes.Equal(data, wk.PDF()) {
			t.Errorf("%s (%s): stored file is not the work's pdf (%v)", id, wk.Route, err)
		}
	}

	// Nothing reached a private address: the guard refused before dialing.
	dials, refused := guard.report()
	if len(refused) > 0 {
		t.Errorf("dials past the address guard reached the socket layer: %v", refused)
	}
	if dials == 0 {
		t.Error("no dial went through the test guard: is it wired?")
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/admin/") || strings.Contains(r.Path, "/latest/meta-data") || strings.Contains(r.Path, "/internal/") {
			t.Errorf("a private target's request reached a server: %s %s", r.Host, r.Path)
		}
	}

	// Nothing outside the store, no temp left, no "x" from ../../x.
	var stray []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case rel == "ca.pem", rel == "sim.toml", rel == "ids.txt":
		case strings.HasPrefix(rel, "out"+string(filepath.Separator)):
			if strings.Contains(rel, ".part") || strings.HasPrefix(rel, filepath.Join("out", ".oafetch", "tmp")+string(filepath.Separator)) {
				stray = append(stray, rel)
			}
		default:
			stray = append(stray, rel)
		}
		return nil
	})
	for _, p := range []string{filepath.Join(out, "..", "..", "x"), filepath.Join(out, "..", "x"), filepath.Join(out, "x")} {
		if _, err := os.Lstat(p); err == nil {
			stray = append(stray, p)
		}
	}
	if len(stray) > 0 {
		slices.Sort(stray)
		t.Errorf("files outside the store or temps left behind: %v", stray)
	}
}
