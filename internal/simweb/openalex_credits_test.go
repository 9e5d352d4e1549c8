package simweb

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestOpenAlexCredits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	s, c := setup(t, Config{Works: 20, OpenAlexCredits: 2, Clock: fixedClock(now)})
	list := "https://api.openalex.org/works?filter=is_oa:true&per_page=5&cursor=*"
	for i, want := range []int{1, 0} {
		r := get(t, c, list)
		if r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(want) ||
			r.header.Get("X-RateLimit-Limit") != "2" || r.header.Get("X-RateLimit-Reset") != "7200" {
			t.Fatalf("call %d: %d %v", i, r.status, r.header)
		}
	}
	r := get(t, c, list)
	if r.status != 429 || !strings.Contains(string(r.body), "allowance") || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("past the allowance: %d %v %s", r.status, r.header, r.body)
	}
	// Singleton lookups are free.
	if r := get(t, c, "https://api.openalex.org/works/W9990000001"); r.status != 200 {
		t.Fatalf("singleton lookup without credits: %d", r.status)
	}
	s.SetOpenAlexCredits(5)
	if r := get(t, c, list); r.status != 200 || s.OpenAlexCredits() != 4 {
		t.Fatalf("a new day: %d, %d left", r.status, s.OpenAlexCredits())
	}
}

func TestOpenAlexTopics(t *testing.T) {
	t.Parallel()
	_, c := setup(t, Config{Works: 20})
	var page struct {
		Meta    struct{ Count int }
		Results []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		}
	}
	mustJSON(t, get(t, c, "https://api.openalex.org/topics?search=Fault+TOLERANCE&api_key=K").body, &page)
	if page.Meta.Count != 1 || len(page.Results) != 1 || page.Results[0].ID != "https://openalex.org/T99902" {
		t.Fatalf("search: %+v", page)
	}
	mustJSON(t, get(t, c, "https://api.openalex.org/topics?search=alchemy").body, &page)
	if page.Meta.Count != 0 || len(page.Results) != 0 {
		t.Fatalf("no match: %+v", page)
	}
	if r := get(t, c, "https://api.openalex.org/topics/T99903"); r.status != 200 || !strings.Contains(string(r.body), "Medieval") {
		t.Fatalf("topic by id: %d %s", r.status, r.body)
	}
	if r := get(t, c, "https://api.openalex.org/topics/T1"); r.status != 404 {
		t.Fatalf("unknown topic: %d", r.status)
	}
}

func TestFaultAfter(t *testing.T) {
	t.Parallel()
	s, c := setup(t, Config{Works: 20})
	s.SetFaults([]Fault{{Host: "api.openalex.org", PathPrefix: "/works", Kind: FaultServerError, After: 2, Times: 1}})
	var got []int
	for range 4 {
		got = append(got, get(t, c, "https://api.openalex.org/works?per_page=2").status)
	}
	if want := []int{200, 200, 503, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}
