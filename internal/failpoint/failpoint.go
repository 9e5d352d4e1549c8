// Package failpoint stops or fails the process at named points so that the
// torture harness (internal/torture) can prove that a crash or a disk error
// at any of them loses nothing and finalizes nothing twice.
//
// Failpoints are named by the environment variable OAFETCH_FAILPOINTS, read
// once, at the first Inject of the process:
//
//	OAFETCH_FAILPOINTS=before-finish:kill@3,fs-sync:enospc%10
//
// Each comma-separated entry is NAME:ACTION, optionally followed by @N (fire
// only at the Nth hit of NAME in this process) or %P (fire at each hit with
// probability P percent). Without either the point fires at every hit.
// Actions:
//
//	kill    SIGKILL the process (kill -9: no deferred call, no flush)
//	enospc  Inject returns an error wrapping syscall.ENOSPC
//	eio     Inject returns an error wrapping syscall.EIO
//
// When the variable is unset or empty, Inject costs one atomic load and a
// nil check. This is the one piece of process-global state in the module:
// the points sit deep in the stores, where threading a value through every
// constructor would cost more than it proves, and the environment is what
// the harness controls from outside the process.
package failpoint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// EnvVar names the variable that configures failpoints.
const EnvVar = "OAFETCH_FAILPOINTS"

// Action is what a failpoint does when it fires.
type Action string

// Actions.
const (
	Kill   Action = "kill"
	ENOSPC Action = "enospc"
	EIO    Action = "eio"
)

// Point is one configured failpoint.
type Point struct {
	Name   string
	Action Action
	// Nth, when positive, fires the point at its Nth hit only.
	Nth int64
	// Percent, when positive, fires the point at each hit with this
	// probability (in percent).
	Percent float64

	hits atomic.Int64
}

// Spec returns p in the OAFETCH_FAILPOINTS syntax.
func (p *Point) Spec() string {
	s := p.Name + ":" + string(p.Action)
	switch {
	case p.Nth > 0:
		s += "@" + strconv.FormatInt(p.Nth, 10)
	case p.Percent > 0:
		s += "%" + strconv.FormatFloat(p.Percent, 'g', -1, 64)
	}
	return s
}

// Parse parses an OAFETCH_FAILPOINTS value. An empty spec yields no points.
func Parse(spec string) (map[string]*Point, error) {
	out := map[string]*Point{}
	for entry := range strings.SplitSeq(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, rest, ok := strings.Cut(entry, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("failpoint: %q: want NAME:ACTION", entry)
		}
		p := &Point{Name: name}
		act := rest
		if i := strings.IndexAny(rest, "@%"); i >= 0 {
			act = rest[:i]
			arg := rest[i+1:]
			if rest[i] == '@' {
				n, err := strconv.ParseInt(arg, 10, 64)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("failpoint: %q: @N wants a positive integer", entry)
				}
				p.Nth = n
			} else {
				f, err := strconv.ParseFloat(arg, 64)
				if err != nil || f <= 0 || f > 100 {
					return nil, fmt.Errorf("failpoint: %q: %%P wants a percentage in (0, 100]", entry)
				}
				p.Percent = f
			}
		}
		switch Action(act) {
		case Kill, ENOSPC, EIO:
			p.Action = Action(act)
		default:
			return nil, fmt.Errorf("failpoint: %q: unknown action %q (kill, enospc, eio)", entry, act)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("failpoint: %q: %s named twice", entry, name)
		}
		out[name] = p
	}
	return out, nil
}

// active holds the parsed points; nil when none are configured.
var (
	active   atomic.Pointer[map[string]*Point]
	loadOnce sync.Once
)

func load() {
	spec := os.Getenv(EnvVar)
	if spec == "" {
		return
	}
	pts, err := Parse(spec)
	if err != nil {
		// Not silent: a harness that mistyped a point must see why nothing
		// fired. The process goes on without failpoints.
		fmt.Fprintf(os.Stderr, "oafetch: %s ignored: %v\n", EnvVar, err)
		return
	}
	active.Store(&pts)
}

// Inject is called at the point named name. It returns nil unless the point
// is configured and fires: then a kill point never returns, and an error
// point returns an error wrapping the errno (errors.Is(err,
// syscall.ENOSPC)). Safe for concurrent use.
func Inject(name string) error {
	loadOnce.Do(load)
	m := active.Load()
	if m == nil {
		return nil
	}
	p := (*m)[name]
	if p == nil {
		return nil
	}
	return p.hit()
}

func (p *Point) hit() error {
	n := p.hits.Add(1)
	switch {
	case p.Nth > 0 && n != p.Nth:
		return nil
	case p.Percent > 0 && rand.Float64()*100 >= p.Percent:
		return nil
	}
	switch p.Action {
	case Kill:
		// os.Process.Kill is SIGKILL on Unix (TerminateProcess elsewhere).
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			_ = self.Kill()
		}
		select {} // the signal is on its way; never return to the caller
	case ENOSPC:
		return &Error{Point: p.Name, Errno: syscall.ENOSPC}
	case EIO:
		return &Error{Point: p.Name, Errno: syscall.EIO}
	}
	return nil
}

// Error is the error an error point returns.
type Error struct {
	Point string
	Errno syscall.Errno
}

func (e *Error) Error() string { return "failpoint " + e.Point + ": " + e.Errno.Error() }

// Unwrap lets errors.Is match the errno.
func (e *Error) Unwrap() error { return e.Errno }

// IsInjected reports whether err comes from a failpoint.
func IsInjected(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
