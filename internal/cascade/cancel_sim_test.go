package cascade_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/cascade"
	"github.com/oafetch/oafetch/internal/download"
	"github.com/oafetch/oafetch/internal/filestore"
	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/simweb"
	"github.com/oafetch/oafetch/internal/source"
)

// pdfURL asks the simulated Unpaywall for a work's PDF location.
func pdfURL(t *testing.T, c *http.Client, doi string) string {
	t.Helper()
	resp, err := c.Get("https://api.unpaywall.org/v2/" + doi + "?email=t@example.org")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec struct {
		Best struct {
			URLForPDF string `json:"url_for_pdf"`
		} `json:"best_oa_location"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || rec.Best.URLForPDF == "" {
		t.Fatalf("unpaywall %s: %v %+v", doi, err, rec)
	}
	return rec.Best.URLForPDF
}

// TestLosingSiblingCancelledAtTheServer: two sources of one tier run at
// once; the loser's download is streaming (its server stalls mid-body)
// when the winner's PDF is validated. The loser's connection must close —
// as the server sees it — within 100 ms of the winner's response, and its
// temp file must be gone.
func TestLosingSiblingCancelledAtTheServer(t *testing.T) {
	t.Parallel()
	srv, err := simweb.New(simweb.Config{Works: 3 + 2*len(simweb.Routes()), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(t.Context(), "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	var picked []simweb.Work
	for _, w := range srv.World().Works {
		if w.Route == simweb.RouteUnpaywall && len(picked) < 2 {
			picked = append(picked, w)
		}
	}
	if len(picked) < 2 {
		t.Fatal("the world has fewer than two unpaywall-pdf works")
	}
	base := srv.Client()
	t.Cleanup(base.CloseIdleConnections)
	winURL, loseURL := pdfURL(t, base, picked[0].IDs.DOI), pdfURL(t, base, picked[1].IDs.DOI)
	lu, _ := url.Parse(loseURL)
	srv.SetFaults([]simweb.Fault{{Host: lu.Hostname(), PathPrefix: lu.Path, Kind: simweb.FaultStall, Bytes: 1500}})

	policy := hostpolicy.NewPolicy(hostpolicy.PolicyConfig{Default: hostpolicy.HostConfig{Rate: rate.Inf, Concurrency: 4}})
	arts, err := filestore.Open(t.TempDir(), filestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dl := download.New(download.Config{}, &http.Client{Transport: policy.Wrap(base.Transport)}, arts)

	// The winner's source answers only once the loser's body is streaming,
	// so that the loser is in flight when the winner wins.
	loserStreaming := make(chan struct{})
	var once sync.Once
	hooks := download.Hooks{Stream: func() error { once.Do(func() { close(loserStreaming) }); return nil }}
	win := &fakeSource{name: "unpaywall", lookup: func(ctx context.Context, _ fulltext.Work) (source.Result, error) {
		select {
		case <-loserStreaming:
		case <-ctx.Done():
			return source.Result{}, ctx.Err()
		}
		return source.Result{Candidates: []fulltext.Candidate{{URL: winURL, Kind: fulltext.KindPDF, Source: "unpaywall"}}}, nil
	}}
	lose := &fakeSource{name: "openalex", lookup: candidates("openalex", loseURL)}
	c := cascade.New(cascade.Config{
		Tiers: []cascade.Tier{{Name: "direct_oa", Parallel: 2, Sources: []string{"openalex", "unpaywall"}}},
	}, map[string]source.Source{"unpaywall": win, "openalex": lose}, dl, analyzer, nil)

	w := fulltext.Work{ID: fulltext.WorkID{Kind: fulltext.KindDOI, Value: picked[0].IDs.DOI}, IDs: picked[0].IDs}
	res := c.Run(t.Context(), fulltext.Lease{JobID: 1, Epoch: 1}, w, hooks)
	if res.Winner == nil || res.Candidate.URL != winURL {
		t.Fatalf("winner %q, code %s, want %s", res.Candidate.URL, res.Code, winURL)
	}
	t.Cleanup(func() { _ = res.Winner.Temp.Abort() })

	// The loser is logged when its handler sees the connection close; wait
	// for that (bounded), then compare the server's own timestamps.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	loser, err := srv.WaitRequest(ctx, func(r simweb.Request) bool { return r.Host+r.Path == lu.Host+lu.RequestURI() })
	if err != nil {
		t.Fatalf("the loser's connection was not closed: %v", err)
	}
	winner, err := srv.WaitRequest(ctx, func(r simweb.Request) bool {
		return "https://"+r.Host+r.Path == winURL && r.Status == http.StatusOK
	})
	if err != nil {
		t.Fatalf("no winner in the request log: %v", err)
	}
	winDone, loseDone := winner.Done, loser.Done
	// The winner's validation comes after its response left the server,
	// so this bound is the stricter one.
	if d := loseDone.Sub(winDone); d > 100*time.Millisecond {
		t.Errorf("loser's connection closed %s after the winner's response, want ≤ 100ms", d)
	}
	temps, err := arts.Temps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) != 1 || temps[0].Name != res.Winner.Temp.Name() {
		t.Errorf("temps %+v, want only the winner's %s", temps, res.Winner.Temp.Name())
	}
	t.Logf("loser closed %s after the winner's response", loseDone.Sub(winDone))
}
