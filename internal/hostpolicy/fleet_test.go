package hostpolicy

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestFleetShare(t *testing.T) {
	t.Parallel()
	p := NewPolicy(PolicyConfig{Hosts: map[string]HostConfig{"a.example": {Rate: 10}, "fast.example": {Rate: rate.Inf}}})
	c := &http.Client{Transport: p.Wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	}))}
	visit := func(hosts ...string) {
		t.Helper()
		for _, h := range hosts {
			if _, err := get(t, c, t.Context(), "https://"+h+"/x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	rates := func() map[string]rate.Limit {
		out := map[string]rate.Limit{}
		for _, s := range p.Hosts() {
			out[s.Host] = s.Rate
		}
		return out
	}
	check := func(what string, want map[string]rate.Limit) {
		t.Helper()
		got := rates()
		for h, w := range want {
			if got[h] != w {
				t.Errorf("%s: %s paced at %v, want %v", what, h, got[h], w)
			}
		}
	}
	visit("a.example", "b.example", "fast.example")
	if p.FleetShare() != 1 {
		t.Errorf("FleetShare before any = %d, want 1", p.FleetShare())
	}
	check("alone", map[string]rate.Limit{"a.example": 10, "b.example": 1, "fast.example": rate.Inf})

	p.SetFleetShare(4)
	visit("export.arxiv.org") // first seen while shared
	check("4 workers", map[string]rate.Limit{"a.example": 2.5, "b.example": 0.25, "fast.example": rate.Inf,
		"export.arxiv.org": rate.Every(3*time.Second) / 4})

	// A Crawl-delay slower than the rate is shared too, and survives a
	// change of the fleet.
	p.applyCrawlDelay(p.host("a.example"), 10*time.Second)
	check("crawl-delay, 4 workers", map[string]rate.Limit{"a.example": rate.Every(10*time.Second) / 4})
	p.SetFleetShare(0)
	if p.FleetShare() != 1 {
		t.Errorf("FleetShare after SetFleetShare(0) = %d, want 1", p.FleetShare())
	}
	check("back alone", map[string]rate.Limit{"a.example": rate.Every(10 * time.Second), "b.example": 1,
		"export.arxiv.org": rate.Every(3 * time.Second)})
}
