package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/store"
)

// hostile is model text that would clear the screen, set the window title,
// plant a hyperlink and overwrite the line printed before it.
const hostile = "ok\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\\rFAKE\u009b31m"

// noControls fails when out holds an escape or another control character
// that a terminal acts on.
func noControls(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			t.Errorf("%s holds the control %U:\n%q", what, r, out)
			return
		}
	}
}

// A model's reply reaches the terminal cleaned, streamed or whole; the
// store keeps it as it was.
func TestTerminalSafeModelReply(t *testing.T) {
	for _, flags := range [][]string{nil, {"--no-stream"}} {
		srv := fakeserver.New(fakeserver.Text(hostile))
		dir := t.TempDir()
		args := append([]string{"llm", "--runs-dir", dir, "--model", "openai/any"}, flags...)
		r := run(t, map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}, append(args, "hi")...)
		srv.Close()
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		noControls(t, "stdout", r.stdout)
		noControls(t, "stderr", r.stderr)
		if !strings.Contains(r.stdout, "oklinkFAKE") {
			t.Errorf("the reply's text is lost: %q", r.stdout)
		}
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(dir, "mlrc.db"))
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := st.Runs(ctx)
		rr, _ := st.Run(ctx, runs[0].ID)
		calls, _ := rr.Calls(ctx)
		st.Close()
		if len(calls) != 1 || !strings.Contains(string(calls[0].Response), `\u001b]0;pwned`) {
			t.Errorf("the store does not keep the reply as it was: %+v", calls)
		}
	}
}

// Errors echo what the user or a file gave: cleaned too.
func TestTerminalSafeErrors(t *testing.T) {
	r := run(t, nil, "task", "check", filepath.Join(t.TempDir(), "no\x1b]0;pwned\x07task"))
	if r.code == 0 {
		t.Fatal("task check of a missing task succeeded")
	}
	noControls(t, "stderr", r.stderr)
	if !strings.Contains(r.stderr, "notask") {
		t.Errorf("the error lost its text: %q", r.stderr)
	}
}

// The step lines of an experiment carry the agent's words: cleaned on the
// terminal, kept as they were in the store.
func TestTerminalSafeExperiment(t *testing.T) {
	taskDir := digitsTask(t)
	srv := fakeserver.New(
		tool("write_file", map[string]any{"path": "notes\x1b[2J.txt", "content": "x"}),
		tool("final_answer", map[string]any{"summary": hostile}),
	)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--task", taskDir, "--auto")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	noControls(t, "stdout", r.stdout)
	noControls(t, "stderr", r.stderr)
	if !strings.Contains(r.stdout, "final_answer: oklinkFAKE") {
		t.Errorf("the final step line is missing:\n%s", r.stdout)
	}
	matches, _ := filepath.Glob(filepath.Join(runs, "*", "events.jsonl"))
	if len(matches) != 1 {
		t.Fatalf("events.jsonl: %v", matches)
	}
	b, _ := os.ReadFile(matches[0])
	if !strings.Contains(string(b), `\u001b]0;pwned`) {
		t.Errorf("events.jsonl does not keep the model's text as it was")
	}
}
