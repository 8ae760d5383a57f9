package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
)

const rehearsalScript = "../../examples/rehearsal/digits.yaml"

// TestRehearsal is the demo test: `make demo` with no model configured, as
// the Makefile runs it, shortened to two seeds. It keeps the shipped script
// in step with the code: the scripted model checks every answer against its
// request's tool schema (a mismatch fails the run), every scripted answer
// must be used (a rejected answer that the code retried would shift them),
// the idea phase must repair nothing, and the only failing tool call must
// be the run the script means to fail.
func TestRehearsal(t *testing.T) {
	taskDir := digitsTask(t)
	b, err := os.ReadFile(rehearsalScript)
	if err != nil {
		t.Fatal(err)
	}
	script, err := scripted.Parse(b)
	if err != nil {
		t.Fatalf("the rehearsal script does not parse: %v", err)
	}
	runs := t.TempDir()
	// A literature index where the Quickstart builds one: the rehearsal
	// leaves it alone (its script answers a run without related work).
	ix, err := lit.OpenIndex(context.Background(), filepath.Join(runs, "literature.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(context.Background(), noveltyWorks...); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	noModel := map[string]string{"HF_HUB_OFFLINE": "1"} // no key, no Ollama: make demo's case
	if r := run(t, noModel, "doctor", "--which-model"); r.code != 3 || strings.TrimSpace(r.stdout) != "none" {
		t.Fatalf("doctor --which-model with no model: exit %d, stdout %q; make demo relies on exit 3", r.code, r.stdout)
	}
	r := run(t, noModel, "research", "--runs-dir", runs, "--rehearsal", rehearsalScript, "--offline",
		"--paper", "../../examples/papers/fashion-mnist.md", "--task", taskDir, "--auto", "--seeds", "0,1")
	if r.code != 0 {
		t.Fatalf("the rehearsal failed (does examples/rehearsal/digits.yaml still fit the tools and schemas?): exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\r\x1b") {
		t.Errorf("not a terminal, yet the output redraws or has colour:\n%q", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if lines[0] != research.RehearsalLine || lines[len(lines)-1] != research.RehearsalLine {
		t.Errorf("the first and last lines must say it is a rehearsal:\nfirst %q\nlast  %q", lines[0], lines[len(lines)-1])
	}
	for _, want := range []string{"phase 4/4: report", "verdict: SUCCESS", "run_experiment #1 → failed", "(new best)", "rehearsal: the literature is not searched"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	if len(list) != 1 || list[0].Status != store.StatusDone {
		t.Fatalf("runs = %+v", list)
	}
	if want := "scripted/" + rehearsalScript; list[0].Model != want {
		t.Errorf("the run record's model is %q, want %q", list[0].Model, want)
	}
	runRow, _ := st.Run(ctx, list[0].ID)
	calls, _ := runRow.Calls(ctx)
	if len(calls) != len(script) {
		t.Errorf("%d model calls for %d scripted answers: an answer was rejected and retried, or the script is too long", len(calls), len(script))
	}
	for i, c := range calls {
		if c.Error != "" {
			t.Errorf("call %d failed: %s", i+1, c.Error)
		}
	}

	// The idea phase used the answers as given: nothing repaired, all ideas
	// reviewed.
	var ideas map[string]json.RawMessage
	b, _ = os.ReadFile(filepath.Join(list[0].Dir, "ideas.json"))
	if err := json.Unmarshal(b, &ideas); err != nil {
		t.Fatalf("ideas.json: %v", err)
	}
	if w := ideas["warnings"]; len(w) > 0 && string(w) != "null" && string(w) != "[]" {
		t.Errorf("the idea phase repaired the scripted answers: %s", w)
	}
	var ranked []struct {
		Title  string
		Review *json.RawMessage
	}
	json.Unmarshal(ideas["ideas"], &ranked)
	if len(ranked) != 2 || ranked[0].Review == nil || ranked[1].Review == nil || !strings.Contains(ranked[0].Title, "SVM") {
		t.Errorf("ideas = %s", ideas["ideas"])
	}

	// The experiment: exactly one tool call failed, the run meant to fail.
	steps, _ := runRow.Steps(ctx)
	var failed []string
	for _, s := range steps {
		if s.Kind != "agent" {
			continue
		}
		var out struct {
			Step struct {
				Calls []struct {
					Name string `json:"name"`
				} `json:"calls"`
				Outcomes []struct {
					IsError bool   `json:"is_error"`
					Content string `json:"content"`
				} `json:"outcomes"`
			} `json:"step"`
		}
		json.Unmarshal(s.Output, &out)
		for _, o := range out.Step.Outcomes {
			if o.IsError {
				failed = append(failed, o.Content)
			}
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "NameError") {
		t.Errorf("failed tool calls = %q, want only the run without the import (NameError)", failed)
	}

	// The report and the runs list say it is a rehearsal.
	md, _ := os.ReadFile(filepath.Join(list[0].Dir, "report.md"))
	html, _ := os.ReadFile(filepath.Join(list[0].Dir, "report.html"))
	if !strings.HasPrefix(string(md), "# Rehearsal") || !strings.Contains(string(md), "> **Rehearsal — Success.**") {
		t.Errorf("report.md's header and verdict must say rehearsal:\n%.600s", md)
	}
	if !strings.Contains(string(html), "<h1>Rehearsal") || !strings.Contains(string(html), "<h2>Rehearsal — Success</h2>") {
		t.Errorf("report.html's header and verdict box must say rehearsal")
	}
	if r := run(t, noModel, "runs", "--runs-dir", runs); !strings.Contains(r.stdout, "(rehearsal)") {
		t.Errorf("runs list:\n%s", r.stdout)
	}
}

// A script that no longer fits the code fails the rehearsal loudly, naming
// the answer, instead of being repaired or retried.
func TestRehearsalScriptMismatchFails(t *testing.T) {
	taskDir := digitsTask(t)
	b, err := os.ReadFile(rehearsalScript)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(string) string{
		"unknown tool": func(s string) string {
			return strings.Replace(s, "name: research_elements", "name: research_element", 1)
		},
		"schema mismatch": func(s string) string {
			return strings.Replace(s, "clarity: {score: 5,", "clarity: {score: \"high\",", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			broken := edit(string(b))
			if broken == string(b) {
				t.Fatal("the edit did not apply: update this test with the script")
			}
			path := filepath.Join(t.TempDir(), "broken.yaml")
			os.WriteFile(path, []byte(broken), 0o644)
			r := run(t, map[string]string{"HF_HUB_OFFLINE": "1"}, "research", "--runs-dir", t.TempDir(), "--rehearsal", path, "--offline",
				"--paper", "../../examples/papers/fashion-mnist.md", "--task", taskDir, "--auto", "--seeds", "0,1")
			if r.code == 0 || !strings.Contains(r.stderr, "does not fit the request") {
				t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
		})
	}
}

// --rehearsal is explicit: it never stands in for a model the user named.
func TestRehearsalExcludesModel(t *testing.T) {
	r := run(t, map[string]string{"OPENAI_API_KEY": "x"}, "research", "--model", "openai/gpt-4o-mini", "--rehearsal", rehearsalScript,
		"--paper", "../../examples/papers/fashion-mnist.md", "--task", "../../examples/tasks/digits")
	if r.code != 2 || !strings.Contains(r.stderr, "exclude each other") {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
}
