//go:build unix

package failpoint

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestKill runs this test binary again with a kill point set and checks the
// child dies of SIGKILL at the configured hit.
func TestKill(t *testing.T) {
	t.Parallel()
	if os.Getenv("FAILPOINT_CHILD") == "1" {
		for i := range 3 {
			_ = Inject("here")
			_, _ = os.Stdout.WriteString("hit " + string(rune('1'+i)) + "\n")
		}
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FAILPOINT_CHILD=1", EnvVar+"=here:kill@2")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v, want it killed; output %q", err, out)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL", ee)
	}
	if string(out) != "hit 1\n" {
		t.Errorf("child wrote %q before dying, want only the first hit", out)
	}
}
