package slurm

import (
	"context"
	"fmt"
	"os"
	"testing"

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
	os.Exit(m.Run())
}
