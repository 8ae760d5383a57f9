package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
)

// Every research run ends with a report: one that stops in any phase, for
// any cause, writes report.md and report.html naming the phase, the reason
// and how to resume.
func TestResearchStoppedWritesReport(t *testing.T) {
	taskDir := digitsTask(t)
	script := researchScript()
	brokenTask := func(t *testing.T) string {
		// The digits task with a prepare command that fails.
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(taskDir)); err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(dir, "task.yaml"))
		y = regexp.MustCompile(`(?m)^prepare: .*$`).ReplaceAll(y, []byte(`prepare: python3 -c "import sys; print('no data here', file=sys.stderr); sys.exit(3)"`))
		os.WriteFile(filepath.Join(dir, "task.yaml"), y, 0o644)
		return dir
	}
	tests := []struct {
		name    string
		replies func(cancel func()) []fakeserver.Reply
		task    func(t *testing.T) string
		flags   []string
		phase   string
		status  string
		why     string
	}{
		{"model failure", func(func()) []fakeserver.Reply {
			return []fakeserver.Reply{fakeserver.Error(400, "this model does not support tools", nil)}
		}, nil, nil, "idea", "failed", "does not support tools"},
		{"budget", func(func()) []fakeserver.Reply { return script }, nil, []string{"--budget-tokens", "50"}, "experiment", "stopped", "budget exceeded"},
		{"interrupt", func(cancel func()) []fakeserver.Reply {
			r := append([]fakeserver.Reply{}, script[:4]...)
			// The first experiment step: Ctrl-C while the model answers.
			return append(r, fakeserver.Reply{Dynamic: func(fakeserver.Request) fakeserver.Reply { cancel(); return script[4] }})
		}, nil, nil, "experiment", "stopped", "canceled"},
		{"task error", func(func()) []fakeserver.Reply { return script }, brokenTask, nil, "experiment", "failed", "no data here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := fakeserver.New(tt.replies(cancel)...)
			defer srv.Close()
			dir := taskDir
			if tt.task != nil {
				dir = tt.task(t)
			}
			runs := t.TempDir()
			env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1", "OLLAMA_HOST": closedAddr(t)}
			args := append([]string{"research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
				"--task", dir, "--auto", "--offline", "--n", "2"}, tt.flags...)
			var stdout, stderr bytes.Buffer
			code := Run(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
			if code == 0 {
				t.Fatalf("exit 0, want a failure\n%s", stdout.String())
			}
			m := regexp.MustCompile(`research run (\S+)`).FindStringSubmatch(stdout.String())
			if m == nil {
				t.Fatalf("no run started:\n%s\n%s", stdout.String(), stderr.String())
			}
			reports, _ := filepath.Glob(filepath.Join(runs, "*", "report.md"))
			if len(reports) != 1 {
				t.Fatalf("%d report.md, want 1\nstdout:\n%s\nstderr:\n%s", len(reports), stdout.String(), stderr.String())
			}
			md, _ := os.ReadFile(reports[0])
			html, err := os.ReadFile(filepath.Join(filepath.Dir(reports[0]), "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string]string{"report.md": string(md), "report.html": string(html)} {
				for _, want := range []string{"Run " + tt.status + " in phase " + tt.phase, tt.why, "mlrc resume " + m[1]} {
					if !strings.Contains(text, want) {
						t.Errorf("%s lacks %q", name, want)
					}
				}
			}
			if !strings.Contains(stdout.String(), "to go on:") {
				t.Errorf("the terminal does not say how to go on:\n%s", stdout.String())
			}
			// Ctrl-C says how to continue, in one line.
			ctrlC := "stopped; continue with `mlrc resume " + m[1] + "`"
			if got := strings.Contains(stdout.String(), ctrlC); got != (tt.name == "interrupt") {
				t.Errorf("%q printed: %v, want %v:\n%s", ctrlC, got, tt.name == "interrupt", stdout.String())
			}
		})
	}
}
