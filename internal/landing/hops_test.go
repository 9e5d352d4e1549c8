package landing

import (
	"net/http"
	"slices"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
)

func TestHops(t *testing.T) {
	t.Parallel()
	h := NewHops("https://doi.org/10.5555/x", 3)
	next, err := h.Next("https://pub.example/doi/10.5555/x")
	if err != nil || next != "https://pub.example/doi/10.5555/x" {
		t.Fatalf("Next = %q, %v", next, err)
	}
	if next, err = h.Next("/consent?r=1"); err != nil || next != "https://pub.example/consent?r=1" {
		t.Fatalf("relative Next = %q, %v", next, err)
	}
	if _, err := h.Next("HTTPS://PUB.EXAMPLE:443/doi/10.5555/x#top"); fulltext.CodeOf(err) != fulltext.CodeRedirectLoop {
		t.Fatalf("loop: err = %v, want redirect-loop", err)
	}
	if _, err := h.Next("javascript:go()"); fulltext.CodeOf(err) != fulltext.CodeNotFound {
		t.Fatalf("javascript hop: err = %v, want not-found", err)
	}
	if _, err := h.Next("/article"); err != nil {
		t.Fatalf("third hop: %v", err)
	}
	if _, err := h.Next("/article/pdf"); fulltext.CodeOf(err) != fulltext.CodeMaxHops {
		t.Fatalf("fourth hop: err = %v, want max-hops", err)
	}
	want := []string{"https://doi.org/10.5555/x", "https://pub.example/doi/10.5555/x", "https://pub.example/consent?r=1", "https://pub.example/article"}
	if got := h.Chain(); !slices.Equal(got, want) {
		t.Errorf("Chain = %q, want %q", got, want)
	}
	if got := NewHops("https://a.example/", 0); got.max != DefaultMaxHops {
		t.Errorf("default budget = %d", got.max)
	}
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		loc    string
		want   string
		ok     bool
	}{
		{302, "/action/showLogin?redirectUri=%2Fdoi%2Fpdf%2F10.5555%2Fx", "https://pub.example/action/showLogin?redirectUri=%2Fdoi%2Fpdf%2F10.5555%2Fx", true},
		{301, "https://other.example/a", "https://other.example/a", true},
		{200, "/x", "", false},
		{302, "", "", false},
		{302, "ftp://x/y", "", false},
	}
	for _, tt := range tests {
		got, ok := Redirect("https://pub.example/doi/pdf/10.5555/x", tt.status, http.Header{"Location": {tt.loc}})
		if got != tt.want || ok != tt.ok {
			t.Errorf("Redirect(%d, %q) = %q, %v; want %q, %v", tt.status, tt.loc, got, ok, tt.want, tt.ok)
		}
	}
}
