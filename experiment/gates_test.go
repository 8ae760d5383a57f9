package experiment

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// linearConfig is a linear run on digits with a scripted model.
func linearConfig(t *testing.T, m *scripted.Model) (Config, *store.Run) {
	t.Helper()
	runner, isolation := testSandbox(t)
	python := treePython(t)
	tk, err := task.Load("../examples/tasks/digits")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	run, err := st.CreateRun(ctx, store.NewRun{Kind: "experiment", RunsDir: filepath.Join(dir, "runs")})
	if err != nil {
		t.Fatal(err)
	}
	return Config{Task: tk, Sandbox: runner, Isolation: isolation, Python: python, Run: run,
		Model: llm.Stack{Provider: "scripted", Model: "s", Recorder: run}.Wrap(m)}, run
}

func toolCall(name string, args map[string]any) scripted.Response {
	return scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}
}

// Gates: before the first run, every K steps, before the final answer; the
// person's guidance reaches the model, and a refusal is respected.
func TestHumanGates(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		toolCall("run_experiment", nil),
		toolCall("inspect_data", map[string]any{"path": "data/train.csv"}),
		toolCall("run_experiment", nil),
		toolCall("final_answer", map[string]any{"summary": "kept the baseline"}),
		toolCall("final_answer", map[string]any{"summary": "kept the baseline, checked"}),
	})
	cfg, run := linearConfig(t, m)
	human := &Scripted{Answers: []Answer{
		{Guidance: "inspect the data first"}, // first_run: held back
		{Guidance: "use an SVC"},             // checkpoint before step 3
		{},                                   // first_run: approved
		{Guidance: "check once more"},        // final: sent back
		{},                                   // checkpoint before step 5
		{},                                   // final: accepted
	}}
	cfg.Gates = Gates{Human: human, Every: 2}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var gates []string
	for _, q := range human.Asked {
		gates = append(gates, q.Gate)
	}
	if got, want := strings.Join(gates, ","), "first_run,checkpoint,first_run,final,checkpoint,final"; got != want {
		t.Errorf("gates asked = %s, want %s", got, want)
	}
	if res.Reason != "final" || res.Steps != 5 {
		t.Errorf("ended %q after %d steps", res.Reason, res.Steps)
	}
	reqs := m.Requests()
	if got := lastText(reqs[1]); !strings.Contains(got, "The experiment was not run. The researcher says: inspect the data first") {
		t.Errorf("request 2 does not carry the held-back run: %s", got)
	}
	if got := lastText(reqs[2]); !strings.Contains(got, "Guidance from the researcher supervising you: use an SVC") {
		t.Errorf("request 3 does not carry the checkpoint guidance: %s", got)
	}
	if got := lastText(reqs[4]); !strings.Contains(got, "does not accept the final answer yet: check once more") {
		t.Errorf("request 5 does not carry the refusal: %s", got)
	}
	events, err := run.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	feedback := 0
	for _, e := range events {
		if e.Type == "human_feedback" {
			feedback++
		}
	}
	if feedback != 1 {
		t.Errorf("%d human_feedback events, want 1", feedback)
	}
}

func TestHumanStopsAtCheckpoint(t *testing.T) {
	m := scripted.New("s", []scripted.Response{toolCall("list_files", nil), toolCall("list_files", nil)})
	cfg, _ := linearConfig(t, m)
	cfg.Gates = Gates{Human: &Scripted{Answers: []Answer{{Stop: true}}}, Every: 1}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != "stopped by the researcher at a checkpoint" || res.Steps != 1 {
		t.Errorf("ended %q after %d steps", res.Reason, res.Steps)
	}
}

// lastText is the text of a request's last message, tool results included.
func lastText(r llm.Request) string {
	m := r.Messages[len(r.Messages)-1]
	var b strings.Builder
	for _, p := range m.Content {
		b.WriteString(p.Text)
		if p.ToolResult != nil {
			b.WriteString(p.ToolResult.Content)
		}
	}
	return b.String()
}
