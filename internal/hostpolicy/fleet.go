package hostpolicy

import (
	"golang.org/x/time/rate"
)

// SetFleetShare makes this process take 1/n of every host's request rate,
// for a fleet of n live workers sharing one job store: each worker divides
// each host's configured rate (slowed by a robots.txt Crawl-delay, when
// there is one) by n, so the fleet as a whole keeps the budget. Callers
// refresh n from the store's worker heartbeats; a change applies at once to
// every host, seen or not. n < 1 counts as 1. Unpaced hosts (rate.Inf) stay
// unpaced. Concurrency ceilings stay per process. Safe for concurrent use.
func (p *Policy) SetFleetShare(n int) {
	n = max(n, 1)
	if p.share.Swap(int64(n)) == int64(n) {
		return
	}
	p.mu.Lock()
	hosts := make([]*host, 0, len(p.hosts))
	for _, h := range p.hosts {
		hosts = append(hosts, h)
	}
	p.mu.Unlock()
	for _, h := range hosts {
		p.repace(h)
	}
}

// FleetShare returns the n of the last SetFleetShare (1 before any).
func (p *Policy) FleetShare() int { return int(max(p.share.Load(), 1)) }

// repace sets h's limiter to its configured rate, slowed by its Crawl-delay,
// divided by the fleet share.
func (p *Policy) repace(h *host) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lim := h.cfg.Rate
	if h.crawl > 0 && h.crawl < lim {
		lim = h.crawl
	}
	if n := p.share.Load(); n > 1 && lim != rate.Inf {
		lim /= rate.Limit(n)
	}
	h.lim.SetLimitAt(p.clock.Now(), lim)
}
