package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startFakeLLM runs ../shared/tools/fakellm.py in schema mode with seed:
// a model answering random but schema-valid JSON, the mistakes small local
// models make. It returns the server's OpenAI base URL.
func startFakeLLM(t *testing.T, seed int, extra ...string) string {
	t.Helper()
	script := shared(t, "tools/fakellm.py")
	dir := t.TempDir()
	portFile := filepath.Join(dir, "port")
	args := append([]string{script, "--mode", "schema", "--seed", fmt.Sprint(seed), "--port-file", portFile, "--quiet", "--no-auth"}, extra...)
	cmd := exec.Command("python3", args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start fakellm.py: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if b, err := os.ReadFile(portFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return "http://127.0.0.1:" + strings.TrimSpace(string(b)) + "/v1"
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("fakellm.py did not start: %s", logs.String())
	return ""
}

// A sample of the fuzz campaign (make fuzz-research runs 50 seeds): research
// runs on digits against a model answering random schema-valid JSON. None
// may crash, each writes a report, and a run that fails names its failure in
// the report.
func TestResearchAgainstSchemaModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three research runs")
	}
	taskDir := digitsTask(t)
	for _, seed := range []int{1, 7, 23} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			url := startFakeLLM(t, seed)
			runs := t.TempDir()
			env := map[string]string{"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "fake", "MLRC_MODEL": "openai/x", "HF_HUB_OFFLINE": "1", "OLLAMA_HOST": closedAddr(t)}
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), []string{"research", "--runs-dir", runs, "--paper", "../../examples/papers/fashion-mnist.md",
				"--task", taskDir, "--auto", "--offline", "--max-steps", "1"},
				Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
			reports, _ := filepath.Glob(filepath.Join(runs, "*", "report.md"))
			if len(reports) != 1 {
				t.Fatalf("exit %d, %d reports, want 1\nstdout:\n%s\nstderr:\n%s", code, len(reports), stdout.String(), stderr.String())
			}
			md, _ := os.ReadFile(reports[0])
			if _, err := os.Stat(filepath.Join(filepath.Dir(reports[0]), "report.html")); err != nil {
				t.Errorf("no report.html: %v", err)
			}
			if code != 0 && !strings.Contains(string(md), "## Run stopped") {
				t.Errorf("exit %d, but the report names no failure:\n%s", code, md)
			}
			if code == 0 && !strings.Contains(stdout.String(), "phase 4/4: report") {
				t.Errorf("exit 0 without reaching the report phase:\n%s", stdout.String())
			}
			if code != 0 && code != 1 {
				t.Errorf("exit %d: not an ordinary failure\n%s", code, stderr.String())
			}
		})
	}
}
