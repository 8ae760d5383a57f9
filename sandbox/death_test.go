//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHelperSandboxed is not a test: TestParentDeath runs the test binary
// with it as a stand-in for mlrc, and kills it mid-run.
func TestHelperSandboxed(t *testing.T) {
	kind := os.Getenv("MLRC_SANDBOX_HELPER")
	if kind == "" {
		t.Skip("helper process for TestParentDeath")
	}
	var r Runner = &Fallback{}
	if kind == "bwrap" {
		r = &Bwrap{}
	}
	r.Run(context.Background(), Spec{Command: []string{python, "-c", "import time; time.sleep(1000)",
		os.Getenv("MLRC_SANDBOX_MARKER")}})
}

// When mlrc dies mid-run, the sandbox dies with it (what bwrap's
// --die-with-parent would do), and the next run removes its cgroups.
func TestParentDeath(t *testing.T) {
	needPython(t)
	for name := range runners(t) {
		t.Run(name, func(t *testing.T) {
			marker := fmt.Sprintf("mlrc-orphan-%d", time.Now().UnixNano())
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxed$")
			cmd.Env = append(os.Environ(), "MLRC_SANDBOX_HELPER="+name, "MLRC_SANDBOX_MARKER="+marker)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !poll(func() bool { return len(marked(marker)) > 0 }) {
				cmd.Process.Kill()
				t.Fatalf("the sandboxed command did not start")
			}
			cmd.Process.Kill()
			cmd.Wait()
			if !poll(func() bool { return len(marked(marker)) == 0 }) {
				t.Errorf("the sandbox outlived its parent: %v", marked(marker))
			}

			run(t, &Fallback{}, Spec{Command: []string{"/bin/true"}})
			for _, c := range []string{"memory", "pids"} {
				stale, _ := filepath.Glob(filepath.Join(cgroupRoot, c, ownCgroup(c),
					fmt.Sprintf("mlrc-%d-*", cmd.Process.Pid)))
				if len(stale) > 0 {
					t.Errorf("stale cgroups: %v", stale)
				}
			}
		})
	}
}

// poll reports whether cond became true within five seconds.
func poll(cond func() bool) bool {
	for range 100 {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
