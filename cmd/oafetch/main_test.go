package main

import (
	"os"
	"testing"
)

// execMainEnv makes the test binary behave as the oafetch binary, so that
// tests can start real `oafetch` processes (and kill them) without a
// separate build: see startOafetch.
const execMainEnv = "OAFETCH_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}
