package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/oafetch/oafetch/internal/fulltext"
	"github.com/oafetch/oafetch/internal/fulltexttest"
)

func TestWorkerRegistry(t *testing.T) {
	t.Parallel()
	fulltexttest.RunWorkerRegistryTests(t, func(t *testing.T, clock *fulltext.StubClock) fulltext.WorkerRegistry {
		return openTest(t, filepath.Join(t.TempDir(), "jobs.db"), clock)
	})
}
