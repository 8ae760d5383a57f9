package task

import (
	"cmp"
	"os"
	"sync"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
)

var (
	sandboxOnce    sync.Once
	sandboxRunner  sandbox.Runner
	sandboxWarning string
	sandboxErr     error
)

// runner returns the sandbox mlrc uses by default (bubblewrap, or the
// fallback with a warning when bwrap does not work here), made once.
// MLRC_TEST_SANDBOX=none runs the tests under the fallback.
func runner(t *testing.T) sandbox.Runner {
	t.Helper()
	sandboxOnce.Do(func() {
		sandboxRunner, sandboxWarning, sandboxErr = sandbox.New(cmp.Or(os.Getenv("MLRC_TEST_SANDBOX"), "bwrap"))
	})
	if sandboxErr != nil {
		t.Fatal(sandboxErr)
	}
	if sandboxWarning != "" {
		t.Logf("sandbox: %s", sandboxWarning)
	}
	return sandboxRunner
}
