package failpoint

import (
	"errors"
	"syscall"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec string
		want       []string // Spec() of each point, in any order
		err        bool
	}{
		{name: "empty", spec: "", want: nil},
		{name: "every hit", spec: "before-finish:kill", want: []string{"before-finish:kill"}},
		{name: "nth and percent", spec: " fs-sync:enospc@3 , fs-write:eio%12.5 ", want: []string{"fs-sync:enospc@3", "fs-write:eio%12.5"}},
		{name: "no action", spec: "before-finish", err: true},
		{name: "unknown action", spec: "x:explode", err: true},
		{name: "zero nth", spec: "x:kill@0", err: true},
		{name: "percent over 100", spec: "x:eio%101", err: true},
		{name: "twice", spec: "x:kill,x:eio", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.spec)
			if tt.err {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.spec, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Parse(%q): %d points, want %d", tt.spec, len(got), len(tt.want))
			}
			for _, w := range tt.want {
				found := false
				for _, p := range got {
					found = found || p.Spec() == w
				}
				if !found {
					t.Errorf("Parse(%q): no point %s", tt.spec, w)
				}
			}
		})
	}
}

func TestHitNth(t *testing.T) {
	t.Parallel()
	pts, err := Parse("fs-rename:enospc@3")
	if err != nil {
		t.Fatal(err)
	}
	p := pts["fs-rename"]
	var fired []int
	for i := 1; i <= 5; i++ {
		if err := p.hit(); err != nil {
			if !errors.Is(err, syscall.ENOSPC) || !IsInjected(err) {
				t.Fatalf("hit %d: %v, want an injected ENOSPC", i, err)
			}
			fired = append(fired, i)
		}
	}
	if len(fired) != 1 || fired[0] != 3 {
		t.Errorf("fired at hits %v, want [3]", fired)
	}
}

func TestHitPercent(t *testing.T) {
	t.Parallel()
	pts, err := Parse("a:eio%100,b:eio%0.001")
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := pts["a"].hit(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("a 100%% point did not fire: %v", err)
		}
	}
	n := 0
	for range 1000 {
		if pts["b"].hit() != nil {
			n++
		}
	}
	if n > 5 {
		t.Errorf("a 0.001%% point fired %d times in 1000", n)
	}
}

func TestInjectUnknownIsNil(t *testing.T) {
	t.Parallel()
	if err := Inject("no-such-point"); err != nil {
		t.Fatal(err)
	}
}
