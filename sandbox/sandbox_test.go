//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// runners are the implementations the contract suite runs against; bwrap
// is left out, with a message, where it is not installed or does not work.
func runners(t *testing.T) map[string]Runner {
	rs := map[string]Runner{"fallback": &Fallback{}}
	b := &Bwrap{}
	if err := b.Check(); err != nil {
		t.Logf("bwrap runner not tested: %v", err)
	} else {
		rs["bwrap"] = b
	}
	return rs
}

// bwrapRunner skips the test when bubblewrap is missing or broken here.
func bwrapRunner(t *testing.T) *Bwrap {
	t.Helper()
	b := &Bwrap{}
	if err := b.Check(); err != nil {
		t.Skipf("bubblewrap not usable here (apt install bubblewrap): %v", err)
	}
	return b
}

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s not installed", python)
	}
}

// workspace is a writable workspace mount in a fresh temp dir.
func workspace(t *testing.T) (string, Mount) {
	ws := t.TempDir()
	return ws, Mount{Source: ws, Writable: true}
}

func run(t *testing.T, r Runner, spec Spec) *Result {
	t.Helper()
	res, err := r.Run(context.Background(), spec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func hasNote(res *Result, s string) bool {
	for _, n := range res.Notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// marked lists host processes whose command line contains marker.
func marked(marker string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestRunners is the contract every Runner meets, the fallback included.
func TestRunners(t *testing.T) {
	needPython(t)
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("ExitCodeAndStderr", func(t *testing.T) { testExitCode(t, r) })
			t.Run("Signal", func(t *testing.T) { testSignal(t, r) })
			t.Run("Env", func(t *testing.T) { testEnv(t, r) })
			t.Run("PythonWritesWorkspace", func(t *testing.T) { testPython(t, r) })
			t.Run("Torch", func(t *testing.T) { testTorch(t, r) })
			t.Run("Network", func(t *testing.T) { testNetwork(t, r) })
			t.Run("Timeout", func(t *testing.T) { testTimeout(t, r) })
			t.Run("OutputFlood", func(t *testing.T) { testOutputFlood(t, r) })
			t.Run("Background", func(t *testing.T) { testBackground(t, r) })
			t.Run("ForkBomb", func(t *testing.T) { testForkBomb(t, r) })
			t.Run("Memory", func(t *testing.T) { testMemory(t, r) })
			t.Run("FileSize", func(t *testing.T) { testFileSize(t, r) })
			t.Run("CPUTime", func(t *testing.T) { testCPUTime(t, r) })
			t.Run("Cancel", func(t *testing.T) { testCancel(t, r) })
		})
	}
}

func testExitCode(t *testing.T, r Runner) {
	res := run(t, r, Spec{Command: []string{"/bin/sh", "-c", "echo out; echo oops >&2; exit 7"}})
	if got, want := res.ExitCode, 7; got != want {
		t.Errorf("ExitCode = %d, want %d", got, want)
	}
	if got, want := res.Stdout.Text, "out\n"; got != want {
		t.Errorf("Stdout = %q, want %q", got, want)
	}
	if got, want := res.Stderr.Text, "oops\n"; got != want {
		t.Errorf("Stderr = %q, want %q", got, want)
	}
	if res.OK() || len(res.Notes) != 0 || res.Isolation == "" {
		t.Errorf("OK = %v, Notes = %q, Isolation = %q", res.OK(), res.Notes, res.Isolation)
	}
}

func testSignal(t *testing.T, r Runner) {
	res := run(t, r, Spec{Command: []string{"/bin/sh", "-c", "kill -SEGV $$"}})
	if res.ExitCode != -1 || res.Signal != "segmentation fault" {
		t.Errorf("ExitCode, Signal = %d, %q; want -1, segmentation fault", res.ExitCode, res.Signal)
	}
	if res.Stderr.Text != "" { // the shim's own "Segmentation fault" must not show
		t.Errorf("Stderr = %q", res.Stderr.Text)
	}
}

func testEnv(t *testing.T, r Runner) {
	t.Setenv("OPENAI_API_KEY", "sk-mlrc-test-leak")
	res := run(t, r, Spec{
		Command: []string{"/usr/bin/env"},
		Env:     map[string]string{"MLRC_SEED": "42", "OMP_NUM_THREADS": "2"},
	})
	if strings.Contains(res.Stdout.Text, "sk-mlrc-test-leak") || strings.Contains(res.Stdout.Text, "OPENAI") {
		t.Errorf("the API key leaked into the sandbox:\n%s", res.Stdout.Text)
	}
	for _, kv := range []string{"MLRC_SEED=42", "OMP_NUM_THREADS=2", "HOME=/tmp", "OPENBLAS_NUM_THREADS=1",
		"PYTHONDONTWRITEBYTECODE=1", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"} {
		if !strings.Contains(res.Stdout.Text, kv+"\n") {
			t.Errorf("environment lacks %s:\n%s", kv, res.Stdout.Text)
		}
	}
}

func testPython(t *testing.T, r Runner) {
	ws, m := workspace(t)
	res := run(t, r, Spec{
		Command: []string{python, "-c", `
import json, numpy as np
x = np.arange(10.0)
json.dump({"mean": float(x.mean())}, open("result.json", "w"))
print("done")`},
		Mounts: []Mount{m},
	})
	if !res.OK() || res.Stdout.Text != "done\n" {
		t.Fatalf("res = %+v", res)
	}
	b, err := os.ReadFile(filepath.Join(ws, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"mean": 4.5}`; got != want {
		t.Errorf("result.json = %s, want %s", got, want)
	}
}

func testTorch(t *testing.T, r Runner) {
	res := run(t, r, Spec{Command: []string{python, "-c",
		"import torch; x = torch.randn(500, 500); print((x @ x).shape)"}})
	if !res.OK() || !strings.Contains(res.Stdout.Text, "torch.Size([500, 500])") {
		t.Fatalf("import torch failed under the default limits: %+v", res)
	}
}

func testNetwork(t *testing.T, r Runner) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	res := run(t, r, Spec{Command: []string{python, "-c", fmt.Sprintf(`
import socket
try:
    socket.create_connection(("127.0.0.1", %d), timeout=2)
    print("CONNECTED")
except OSError as e:
    print("refused:", e)`, port)}})
	if strings.Contains(res.Stdout.Text, "CONNECTED") || accepted.Load() != 0 {
		t.Errorf("the sandbox reached the host's loopback: %q, %d connections", res.Stdout.Text, accepted.Load())
	}
	if !strings.Contains(res.Stdout.Text, "refused:") {
		t.Errorf("stdout = %q, stderr = %q", res.Stdout.Text, res.Stderr.Text)
	}
}

func testTimeout(t *testing.T, r Runner) {
	start := time.Now()
	res := run(t, r, Spec{
		Command: []string{python, "-c", "while True: pass"},
		Limits:  Limits{Wall: 2 * time.Second},
	})
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Run took %v with a 2 s limit", d)
	}
	if !res.TimedOut || res.ExitCode != -1 || res.Signal != "killed" || res.OK() {
		t.Errorf("res = %+v", res)
	}
	if !hasNote(res, "killed after 2 s (the time limit)") {
		t.Errorf("Notes = %q", res.Notes)
	}
}

func testOutputFlood(t *testing.T, r Runner) {
	start := time.Now()
	res := run(t, r, Spec{
		Command: []string{python, "-c", `
import sys
out = sys.stdout.buffer
out.write(b"HEAD\n")
block = b"x" * (1 << 20)
for _ in range(1024):
    out.write(block)
out.write(b"\nTAIL\n")`},
		Limits: Limits{Wall: 30 * time.Second},
	})
	t.Logf("1 GiB of output took %v", time.Since(start))
	out := res.Stdout
	if got, want := out.Total, int64(1<<30+len("HEAD\n\nTAIL\n")); got != want {
		t.Errorf("Total = %d, want %d (timed out: %v)", got, want, res.TimedOut)
	}
	if !out.Truncated || len(out.Text) > DefaultOutput+100 {
		t.Errorf("Truncated = %v, len(Text) = %d", out.Truncated, len(out.Text))
	}
	if !strings.HasPrefix(out.Text, "HEAD\nxxx") || !strings.HasSuffix(out.Text, "xxx\nTAIL\n") ||
		!strings.Contains(out.Text, " bytes omitted …]") {
		t.Errorf("Text lacks head, marker or tail")
	}
	if !hasNote(res, "output truncated at 1 MiB (stdout: 1.0 GiB written)") {
		t.Errorf("Notes = %q", res.Notes)
	}
}

func testBackground(t *testing.T, r Runner) {
	marker := fmt.Sprintf("mlrc-bg-%d", time.Now().UnixNano())
	script := fmt.Sprintf(`
import os, subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(1000)", %q]
subprocess.Popen(sleeper)  # keeps stdout open
subprocess.Popen(sleeper, start_new_session=True, stdout=subprocess.DEVNULL)
if os.fork() == 0:  # a daemon: double fork, new session
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper)
    os._exit(0)
time.sleep(0.3)
print("leaving")`, marker)
	start := time.Now()
	res := run(t, r, Spec{Command: []string{python, "-c", script}, Limits: Limits{Wall: 20 * time.Second}})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v: it waited for the background processes", d)
	}
	if !res.OK() || res.Stdout.Text != "leaving\n" {
		t.Errorf("res = %+v", res)
	}
	if !hasNote(res, "background processes were left running and have been killed") {
		t.Errorf("Notes = %q", res.Notes)
	}
	if pids := marked(marker); len(pids) > 0 {
		t.Errorf("background processes survived the run: %v", pids)
	}
}

func testForkBomb(t *testing.T, r Runner) {
	for name, cmd := range map[string][]string{
		"python": {python, "-c", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"},
		"sh":     {"/bin/sh", "-c", "f(){ f|f& };f; sleep 1"}, // dash keeps ":" a builtin
	} {
		t.Run(name, func(t *testing.T) {
			marker := fmt.Sprintf(" # mlrc-forkbomb-%d", time.Now().UnixNano())
			cmd[len(cmd)-1] += marker
			start := time.Now()
			res := run(t, r, Spec{Command: cmd, Limits: Limits{Wall: 2 * time.Second, Procs: 64}})
			t.Logf("notes: %q", res.Notes)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Run took %v with a 2 s limit", d)
			}
			// Both bombs run into the limit (the shell waits while its
			// bomb grows in the background), or leave it behind.
			limited := hasNote(res, "process limit (64) reached") ||
				!strings.Contains(res.Isolation, "processes by cgroup")
			if !limited && !hasNote(res, "background processes were left running") {
				t.Errorf("Notes = %q", res.Notes)
			}
			time.Sleep(100 * time.Millisecond)
			if pids := marked(marker); len(pids) > 0 {
				t.Errorf("%d fork bomb processes survived the run", len(pids))
			}
		})
	}
}

func testMemory(t *testing.T, r Runner) {
	res := run(t, r, Spec{
		Command: []string{python, "-c", "x = b'1' * (2 << 30); print(len(x))"},
		Limits:  Limits{Memory: 512 << 20, Wall: 30 * time.Second},
	})
	t.Logf("notes: %q", res.Notes)
	if !res.OOM || !hasNote(res, "out of memory (limit 512 MiB)") || res.OK() {
		t.Errorf("res = %+v", res)
	}
}

func testFileSize(t *testing.T, r Runner) {
	ws, m := workspace(t)
	res := run(t, r, Spec{
		Command: []string{python, "-c", "open('big', 'wb').write(b'0' * (3 << 20))"},
		Mounts:  []Mount{m},
		Limits:  Limits{FileSize: 1 << 20},
	})
	if !hasNote(res, "file size limit (1 MiB) reached") || res.OK() {
		t.Errorf("res = %+v", res)
	}
	if fi, err := os.Stat(filepath.Join(ws, "big")); err != nil || fi.Size() > 1<<20 {
		t.Errorf("big: %v, %v", fi, err)
	}
}

func testCPUTime(t *testing.T, r Runner) {
	res := run(t, r, Spec{
		Command: []string{python, "-c", "while True: pass"},
		Limits:  Limits{CPUTime: time.Second, Wall: 10 * time.Second},
	})
	if res.TimedOut || res.Signal != "CPU time limit exceeded" || !hasNote(res, "CPU time limit (1 s) reached") {
		t.Errorf("res = %+v", res)
	}
}

func testCancel(t *testing.T, r Runner) {
	marker := fmt.Sprintf("mlrc-cancel-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Run(ctx, Spec{Command: []string{python, "-c", "import time; time.sleep(1000)", marker}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v after cancel", d)
	}
	if pids := marked(marker); len(pids) > 0 {
		t.Errorf("processes survived the cancelled run: %v", pids)
	}
}
