package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
)

// Whatever an agent manages to tamper with during a run — the evaluator,
// a protected file — validation finds it: the verdict names the failed check
// and is not a success. The tampering is done by the test between two model
// answers, standing in for an escape from the sandbox.
func TestTamperingIsCaught(t *testing.T) {
	digitsTask(t)
	tests := []struct {
		name   string
		tamper func(taskDir, runsDir string)
		check  string
	}{
		{"evaluator edited", func(taskDir, _ string) {
			f, _ := os.OpenFile(filepath.Join(taskDir, "eval", "eval.py"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("\n# accuracy is whatever I say\n")
			f.Close()
		}, "task and evaluator unchanged"},
		{"protected file overwritten", func(_, runsDir string) {
			ws, _ := filepath.Glob(filepath.Join(runsDir, "*", "workspace", "data", "train.csv"))
			b, _ := os.ReadFile(ws[0])
			os.WriteFile(ws[0], append(b, b[strings.IndexByte(string(b), '\n')+1:]...), 0o644)
		}, "protected files unchanged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taskDir := filepath.Join(t.TempDir(), "digits")
			if out, err := exec.Command("cp", "-r", "../../examples/tasks/digits", taskDir).CombinedOutput(); err != nil {
				t.Fatalf("copy the task: %v %s", err, out)
			}
			runs := t.TempDir()
			script := researchScript()
			// Tamper just before the successful run (the 6th experiment answer).
			i := 4 + 5
			run6 := script[i]
			script[i] = fakeserver.Reply{Dynamic: func(fakeserver.Request) fakeserver.Reply {
				tt.tamper(taskDir, runs)
				return run6
			}}
			srv := fakeserver.New(script...)
			defer srv.Close()
			env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
			r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
				"--task", taskDir, "--auto", "--offline", "--n", "2")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, "verdict: NOT A SUCCESS") || !strings.Contains(r.stdout, tt.check) {
				t.Errorf("the verdict does not name %q:\n%s", tt.check, r.stdout)
			}
			html, _ := filepath.Glob(filepath.Join(runs, "*", "report.html"))
			b, _ := os.ReadFile(html[0])
			if !regexp.MustCompile(`(?i)not a success`).Match(b) || !strings.Contains(string(b), tt.check) {
				t.Errorf("report.html does not show the failed check %q", tt.check)
			}
		})
	}
}
