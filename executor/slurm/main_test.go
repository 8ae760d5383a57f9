package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/mlrc/mlrc/executor/slurm/slurmtest"

	"github.com/mlrc/mlrc/sandbox"
)

// TestMain lets the test binary stand in for mlrc on the node: the jobs
// the tests submit run it with "sandbox-job".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "sandbox-job" {
		err := NodeMain(context.Background(), os.Args[2:], os.Getenv, func(kind string) (sandbox.Runner, error) {
			r, _, err := sandbox.New(kind)
			return r, err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "sandbox-job:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if shared.cluster != nil {
		shared.cluster.Close()
	}
	os.Exit(code)
}

// shared is the package's one test cluster, started by the first test
// that needs it.
var shared struct {
	once    sync.Once
	cluster *slurmtest.Cluster
	err     error
}

// startCluster starts the shared cluster, or skips (or fails) the test
// with the reason it cannot start.
func startCluster(t *testing.T) {
	t.Helper()
	shared.once.Do(func() {
		shared.cluster, shared.err = slurmtest.Launch()
		if shared.err == nil {
			os.Setenv("SLURM_CONF", shared.cluster.Conf)
		}
	})
	var skip *slurmtest.SkipError
	switch {
	case errors.As(shared.err, &skip):
		t.Skip(skip.Error())
	case shared.err != nil:
		t.Fatal(shared.err)
	}
}
