package main

import (
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// profileFlags are the hidden profiling flags of every command
// (BENCHMARKS.md): a CPU profile, a heap profile written at exit, and an
// execution trace, and the goroutines left at exit (a count that must not
// grow with the number of requests made: P6).
type profileFlags struct {
	cpu, mem, trace, goroutines string
}

func (a *app) addProfileFlags(root *cobra.Command, pf *profileFlags) {
	f := root.PersistentFlags()
	f.StringVar(&pf.cpu, "cpuprofile", "", "write a CPU profile to this file")
	f.StringVar(&pf.mem, "memprofile", "", "write a heap profile to this file at exit")
	f.StringVar(&pf.trace, "trace", "", "write an execution trace to this file")
	f.StringVar(&pf.goroutines, "goroutineprofile", "", "write the goroutines alive at exit to this file (text)")
	for _, name := range []string{"cpuprofile", "memprofile", "trace", "goroutineprofile"} {
		_ = f.MarkHidden(name)
	}
}

// startProfiles starts what pf asks for; a.close stops it and writes the
// files.
func (a *app) startProfiles(pf *profileFlags) error {
	if pf.cpu != "" {
		f, err := os.Create(pf.cpu)
		if err != nil {
			return usagef("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return usagef("--cpuprofile: %w", err)
		}
		a.closers = append(a.closers, func() error { pprof.StopCPUProfile(); return f.Close() })
	}
	if pf.trace != "" {
		f, err := os.Create(pf.trace)
		if err != nil {
			return usagef("--trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return usagef("--trace: %w", err)
		}
		a.closers = append(a.closers, func() error { trace.Stop(); return f.Close() })
	}
	if pf.mem != "" {
		path := pf.mem
		a.closers = append(a.closers, func() error {
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
			goruntime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				f.Close()
				return fmt.Errorf("--memprofile: %w", err)
			}
			return f.Close()
		})
	}
	if pf.goroutines != "" {
		path := pf.goroutines
		a.closers = append(a.closers, func() error {
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("--goroutineprofile: %w", err)
			}
			if err := pprof.Lookup("goroutine").WriteTo(f, 1); err != nil {
				f.Close()
				return fmt.Errorf("--goroutineprofile: %w", err)
			}
			return f.Close()
		})
	}
	return nil
}
