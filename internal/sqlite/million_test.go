package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMillionPlan(t *testing.T) {
	if os.Getenv("MILLION") == "" {
		t.Skip()
	}
	s := openTest(t, filepath.Join(t.TempDir(), "jobs.db"), nil)
	start := time.Now()
	const batch = 50000
	for i := 0; i < 1000000; i += batch {
		if _, err := s.Plan(t.Context(), benchWorks(i, batch)); err != nil {
			t.Fatal(err)
		}
		if i%200000 == 0 {
			t.Logf("%d after %v", i, time.Since(start))
		}
	}
	t.Logf("1M planned in %v", time.Since(start))
}
