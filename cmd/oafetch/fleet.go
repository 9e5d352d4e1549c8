package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
)

// processName is this process's name in leases and heartbeats
// (workerOwner), with its host name and pid.
func processName() (name, host string, pid int) {
	host, _ = os.Hostname()
	return workerOwner(), host, os.Getpid()
}

// startFleet keeps this process's heartbeat in the job store, when the
// store keeps heartbeats (fulltext.WorkerRegistry), and sets the policy's
// fleet share to the number of live workers, so that each host's budget
// holds for the fleet rather than per process. It beats once before
// returning (the share is right before the first request) and then every
// ttl/3; stop ends the loop and removes the heartbeat (graceful drain).
// A worker whose heartbeat is older than ttl counts as gone.
func startFleet(ctx context.Context, store fulltext.JobStore, policy *hostpolicy.Policy, ttl time.Duration, log *slog.Logger) (stop func()) {
	reg, ok := store.(fulltext.WorkerRegistry)
	if !ok || ttl <= 0 {
		return func() {}
	}
	name, host, pid := processName()
	self := fulltext.WorkerInfo{Name: name, Host: host, PID: pid}
	beat := func(ctx context.Context) {
		if err := reg.Heartbeat(ctx, self); err != nil {
			log.Warn("heartbeat", "err", err)
			return
		}
		live, err := reg.LiveWorkers(ctx, ttl)
		if err != nil {
			log.Warn("live workers", "err", err)
			return
		}
		n := max(len(live), 1)
		if policy != nil && policy.FleetShare() != n {
			log.Info("fleet share", "live_workers", n)
			policy.SetFleetShare(n)
		}
	}
	beat(ctx)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				beat(ctx)
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
		lctx, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer done()
		if err := reg.Leave(lctx, name); err != nil {
			log.Warn("leave", "err", err)
		}
	}
}

// addLiveWorkers fills st.LiveWorkers from the store's heartbeats, when it
// keeps them.
func addLiveWorkers(ctx context.Context, store fulltext.JobStore, ttl time.Duration, st *fulltext.Stats) error {
	reg, ok := store.(fulltext.WorkerRegistry)
	if !ok {
		return nil
	}
	live, err := reg.LiveWorkers(ctx, ttl)
	if err != nil {
		return err
	}
	st.LiveWorkers = live
	return nil
}

// printLiveWorkers prints the live workers with their leases.
func printLiveWorkers(out io.Writer, st fulltext.Stats, now time.Time) {
	if len(st.LiveWorkers) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nworker\tleases\tup\tlast seen")
	for _, w := range st.LiveWorkers {
		leases := 0
		for owner, n := range st.Workers {
			if owner == w.Name || strings.HasPrefix(owner, w.Name+"/") {
				leases += n
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s ago\n", w.Name, leases,
			now.Sub(w.Started).Round(time.Second), now.Sub(w.Seen).Round(time.Second))
	}
	_ = tw.Flush()
}
