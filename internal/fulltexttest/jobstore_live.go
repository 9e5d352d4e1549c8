package fulltexttest

import (
	"testing"
	"time"

	"github.com/oafetch/oafetch/internal/fulltext"
)

// liveCases cover LeaseLive, which the temp-file reconciler relies on.
func liveCases() []jobStoreCase {
	return []jobStoreCase{
		{"LeaseLive/current lease until it expires", func(t *testing.T, h *harness) {
			j := h.planClaim("live", time.Minute)
			live := func(l fulltext.Lease) bool {
				t.Helper()
				ok, err := h.s.LeaseLive(t.Context(), l)
				if err != nil {
					t.Fatalf("LeaseLive(%v): %v", l, err)
				}
				return ok
			}
			if !live(j.Lease()) {
				t.Fatal("fresh lease not live")
			}
			if live(fulltext.Lease{JobID: j.ID, Epoch: j.Epoch - 1}) {
				t.Error("older epoch reported live")
			}
			if live(fulltext.Lease{JobID: j.ID + 1000, Epoch: 1}) {
				t.Error("unknown job reported live")
			}
			h.clock.Advance(2 * time.Minute)
			if live(j.Lease()) {
				t.Error("expired lease reported live")
			}
			j2 := h.claimOne("other", time.Minute)
			if live(j.Lease()) || !live(j2.Lease()) {
				t.Error("after re-claim only the new epoch is live")
			}
			h.finalize(j2.Lease(), "openalex")
			if live(j2.Lease()) {
				t.Error("finished job's lease reported live")
			}
		}},
	}
}
