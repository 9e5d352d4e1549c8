package hostpolicy_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/hostpolicy"
	"github.com/oafetch/oafetch/internal/sqlite"
)

type syncBundle struct {
	store  *sqlite.Store
	clock  *fulltext.StubClock
	policy *hostpolicy.Policy
	syncer *hostpolicy.Syncer
	// challenges is what the Challenges callback returns.
	challenges map[string]time.Time
}

func setupSync(t *testing.T) *syncBundle {
	t.Helper()
	clock := fulltext.NewStubClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jobs.sqlite"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b := &syncBundle{store: st, clock: clock, challenges: map[string]time.Time{}}
	b.policy = hostpolicy.NewPolicy(hostpolicy.PolicyConfig{Clock: clock, Default: hostpolicy.HostConfig{Rate: rate.Inf, Concurrency: 2}})
	b.syncer = b.policy.NewSyncer(hostpolicy.SyncConfig{
		Store: st, Owner: "test:1",
		Challenges: func() map[string]time.Time { return b.challenges },
	})
	return b
}

func (b *syncBundle) syncOnce(t *testing.T) {
	t.Helper()
	if err := b.syncer.SyncOnce(t.Context()); err != nil {
		t.Fatalf("SyncOnce: %v", err)
	}
}

func (b *syncBundle) setMeta(t *testing.T, k, v string) {
	t.Helper()
	if err := b.store.SetMeta(t.Context(), k, v); err != nil {
		t.Fatal(err)
	}
}

func (b *syncBundle) pausedUntil(host string) time.Time {
	for _, h := range b.policy.Hosts() {
		if h.Host == host {
			return h.PausedUntil
		}
	}
	return time.Time{}
}

func (b *syncBundle) published(t *testing.T) map[string]hostpolicy.SharedState {
	t.Helper()
	kv, err := b.store.ListMeta(t.Context(), hostpolicy.StateKeyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]hostpolicy.SharedState{}
	for k, v := range kv {
		var st hostpolicy.SharedState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			t.Fatalf("%s = %q: %v", k, v, err)
		}
		out[k[len(hostpolicy.StateKeyPrefix):]] = st
	}
	return out
}

func TestSyncerAppliesAndLiftsOperatorPauses(t *testing.T) {
	t.Parallel()
	b := setupSync(t)
	until := b.clock.Now().Add(time.Hour)
	b.setMeta(t, hostpolicy.PauseKeyPrefix+"Pub.Example.ORG.", until.Format(time.RFC3339))
	b.setMeta(t, hostpolicy.PauseKeyPrefix+"old.example.org", b.clock.Now().Add(-time.Minute).Format(time.RFC3339))
	b.setMeta(t, hostpolicy.PauseKeyPrefix+"junk.example.org", "tomorrow")

	b.syncOnce(t)
	if got := b.pausedUntil("pub.example.org"); !got.Equal(until) {
		t.Errorf("pub.example.org paused until %v, want %v", got, until)
	}
	for _, h := range []string{"old.example.org", "junk.example.org"} {
		if got := b.pausedUntil(h); !got.IsZero() {
			t.Errorf("%s paused until %v by a past or malformed value", h, got)
		}
	}
	pub := b.published(t)
	if st := pub["pub.example.org"]; !st.PausedUntil.Equal(until) || st.Owner != "test:1" {
		t.Errorf("published pub.example.org = %+v, want paused until %v by test:1", st, until)
	}

	b.setMeta(t, hostpolicy.PauseKeyPrefix+"Pub.Example.ORG.", "") // oafetch hosts resume
	b.syncOnce(t)
	if got := b.pausedUntil("pub.example.org"); !got.IsZero() {
		t.Errorf("pub.example.org still paused until %v after resume", got)
	}
	if st := b.published(t)["pub.example.org"]; !st.PausedUntil.IsZero() {
		t.Errorf("published state still paused after resume: %+v", st)
	}
}

func TestSyncerPublishesChangesOnly(t *testing.T) {
	t.Parallel()
	b := setupSync(t)
	seen := b.clock.Now()
	b.challenges["shield.example.com"] = seen
	b.syncOnce(t)
	first := b.published(t)
	st, ok := first["shield.example.com"]
	if !ok || !st.ChallengeSeen.Equal(seen) {
		t.Fatalf("published %+v, want shield.example.com with its challenge", first)
	}

	b.clock.Advance(time.Minute)
	b.syncOnce(t)
	if again := b.published(t)["shield.example.com"]; !again.At.Equal(st.At) {
		t.Errorf("an unchanged state was written again (at %v, first at %v)", again.At, st.At)
	}

	b.policy.Pause("shield.example.com", b.clock.Now().Add(time.Hour))
	b.syncOnce(t)
	if changed := b.published(t)["shield.example.com"]; !changed.At.Equal(b.clock.Now()) || changed.PausedUntil.IsZero() {
		t.Errorf("a changed state was not published: %+v", changed)
	}
}

// A pause the policy set by itself (a Retry-After beyond the cap) is
// shared as a pause key, so the fleet holds off too, and is lifted by
// `oafetch hosts resume` like an operator's.
func TestSyncerSharesRetryAfterPauses(t *testing.T) {
	t.Parallel()
	b := setupSync(t)
	raUntil := b.clock.Now().Add(10*time.Minute + 300*time.Millisecond)
	b.policy.Pause("busy.example.org", raUntil) // what a Retry-After: 600 beyond the cap does
	b.syncOnce(t)
	v, ok, err := b.store.GetMeta(t.Context(), hostpolicy.PauseKeyPrefix+"busy.example.org")
	if err != nil || !ok {
		t.Fatalf("pause key not written: %v %v", ok, err)
	}
	if until, ok := hostpolicy.ParsePause(v); !ok || until.Before(raUntil) || until.Sub(raUntil) > time.Second {
		t.Errorf("shared pause %q, want %s rounded up to the second", v, raUntil)
	}
	b.syncOnce(t)
	if got := b.pausedUntil("busy.example.org"); !got.Equal(raUntil) {
		t.Errorf("busy.example.org paused until %v after another round, want %v kept", got, raUntil)
	}

	// Another process sharing the store picks it up.
	other := hostpolicy.NewPolicy(hostpolicy.PolicyConfig{Clock: b.clock})
	if err := other.NewSyncer(hostpolicy.SyncConfig{Store: b.store}).SyncOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if hs := other.Hosts(); len(hs) != 1 || hs[0].Host != "busy.example.org" || hs[0].PausedUntil.Before(raUntil) {
		t.Errorf("the other process's hosts = %+v, want busy.example.org paused", hs)
	}

	b.setMeta(t, hostpolicy.PauseKeyPrefix+"busy.example.org", "")
	b.syncOnce(t)
	if got := b.pausedUntil("busy.example.org"); !got.IsZero() {
		t.Errorf("busy.example.org still paused until %v after resume", got)
	}
}
