package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/openai"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// testSandbox returns mlrc's default sandbox (bubblewrap, or the fallback
// when it does not work here).
func testSandbox(t *testing.T) (sandbox.Runner, string) {
	t.Helper()
	r, warning, err := sandbox.New("bwrap")
	if err != nil {
		t.Fatal(err)
	}
	if warning != "" {
		t.Logf("sandbox: %s", warning)
		return r, warning
	}
	return r, "bwrap"
}

// treePython finds an interpreter with what the digits task needs.
func treePython(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import sklearn, pandas").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with scikit-learn and pandas")
	return ""
}

// Variants of train.py the scripted model writes.
const treeTrainHead = `import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
features = [c for c in train.columns if c.startswith("p")]
`

func treeTrain(model string) string {
	return treeTrainHead + "model = " + model + `
model.fit(train[features], train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(test[features])}).to_csv("predictions.csv", index=False)
`
}

var (
	treeCrash   = treeTrainHead + "model = SVC(gamma=0.001)\nmodel.fit(train[feature], train[\"label\"])\n" // NameError
	treeLow     = treeTrain("make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))")   // ≈0.95
	treeKNN     = treeTrain("KNeighborsClassifier(n_neighbors=3)")                                          // ≈0.985
	treeFixed   = treeTrain("SVC(gamma=0.001)")                                                             // ≈0.993
	treeImprove = treeTrain("SVC(C=10, gamma=0.001)")                                                       // ≈0.994
)

// treeCall is one scripted tool call.
type treeCall struct {
	name string
	args map[string]any
}

func writeTrain(code string) treeCall {
	return treeCall{"write_file", map[string]any{"path": "train.py", "content": code}}
}

var (
	runIt    = treeCall{"run_experiment", map[string]any{"note": "measure"}}
	finishIt = treeCall{"final_answer", map[string]any{"summary": "done"}}
)

// treeScripts are the episodes, by the job named in a node's brief.
var treeScripts = map[string][]treeCall{
	"draft 1": {writeTrain(treeCrash), runIt, finishIt},
	"draft 2": {writeTrain(treeLow), finishIt}, // no run: the search scores it
	"draft 3": {writeTrain(treeKNN), runIt, finishIt},
	"debug":   {writeTrain(treeFixed), runIt, finishIt},
	"improve": {writeTrain(treeImprove), runIt, finishIt},
}

var jobRE = regexp.MustCompile(`(?m)^## Your job: (draft \d+|debug|improve)\b`)

// treeModel is an OpenAI-compatible server whose answers depend on the
// request only, not on the order requests arrive in: the job named in the
// brief picks the script, the number of tool results so far the line.
type treeModel struct {
	mu       sync.Mutex
	problems []string
}

func (m *treeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	brief, results := "", 0
	for _, msg := range body.Messages {
		switch msg.Role {
		case "user":
			if brief == "" {
				brief = messageText(msg.Content)
			}
		case "tool":
			results++
		}
	}
	job := "draft 3" // a draft beyond the third
	if mm := jobRE.FindStringSubmatch(brief); mm != nil {
		if _, ok := treeScripts[mm[1]]; ok {
			job = mm[1]
		}
	} else {
		m.problem("a request without a job in its brief")
	}
	if job == "debug" && !strings.Contains(brief, "NameError") {
		m.problem("the debug brief does not show the parent's error")
	}
	if job == "improve" && !strings.Contains(brief, "+++ b/train.py") {
		m.problem("the improve brief does not show the parent's code")
	}
	script := treeScripts[job]
	c := finishIt
	if results < len(script) {
		c = script[results]
	}
	args, _ := json.Marshal(c.args)
	id := fmt.Sprintf("call_%d", rand.IntN(1e9))
	writeTreeJSON(w, map[string]any{
		"id": "chatcmpl-tree", "object": "chat.completion", "created": 1700000000, "model": body.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{
			"role": "assistant", "content": "",
			"tool_calls": []map[string]any{{"id": id, "type": "function", "function": map[string]any{"name": c.name, "arguments": string(args)}}},
		}}},
		"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
	})
}

func (m *treeModel) problem(p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.problems = append(m.problems, p)
}

func messageText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct{ Text string }
	json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func writeTreeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// treeEnv is a run of the digits task with the scripted model over HTTP.
type treeEnv struct {
	cfg    Config
	run    *store.Run
	model  *treeModel
	client *openai.Client
	meter  *llm.Meter
}

func newTreeEnv(t *testing.T, budget llm.Budget) *treeEnv {
	t.Helper()
	runner, isolation := testSandbox(t)
	python := treePython(t)
	tk, err := task.Load("../examples/tasks/digits")
	if err != nil {
		t.Fatalf("load the digits task: %v", err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	run, err := st.CreateRun(ctx, store.NewRun{Kind: "experiment", Model: "openai/fake", RunsDir: filepath.Join(dir, "runs")})
	if err != nil {
		t.Fatal(err)
	}
	m := &treeModel{}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	client := openai.New(openai.Config{BaseURL: srv.URL + "/v1"})
	env := &treeEnv{run: run, model: m, client: client, meter: llm.NewMeter(llm.Prices{}, budget)}
	env.cfg = Config{
		Task: tk, Sandbox: runner, Isolation: isolation, Python: python, Run: run,
		Plan: "Try classifiers stronger than logistic regression.",
		Model: llm.ProviderFunc(func(context.Context, *llm.Request) (*llm.Response, error) {
			t.Error("cfg.Model was called although ModelFor is set")
			return nil, errors.New("no model")
		}),
		ModelFor: env.modelFor,
	}
	return env
}

// modelFor dresses the client as the CLI does: metered, recorded to rec.
func (e *treeEnv) modelFor(rec llm.Recorder) agent.Model {
	return llm.Stack{Provider: "openai", Model: "fake", Meter: e.meter, Recorder: rec}.Wrap(e.client)
}

// storedNode is a node step as the store has it.
type storedNode struct {
	info store.StepInfo
	in   nodeInput
	out  node
}

func storedNodes(t *testing.T, run *store.Run) (nodes []storedNode, steps []store.StepInfo) {
	t.Helper()
	steps, err := run.Steps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Status == store.StatusRunning {
			t.Errorf("step %d (%s) is still running", s.Seq, s.Kind)
		}
		if s.Kind != KindNode {
			continue
		}
		n := storedNode{info: s}
		if err := json.Unmarshal(s.Input, &n.in); err != nil {
			t.Fatalf("node step %d input: %v", s.Seq, err)
		}
		if err := json.Unmarshal(s.Output, &n.out); err != nil {
			t.Fatalf("node step %d output: %v", s.Seq, err)
		}
		nodes = append(nodes, n)
	}
	return nodes, steps
}

func TestTreeSearchKeepsTheBestNode(t *testing.T) {
	// Tree search with 2 workers on digits runs with scripted responses and
	// keeps the best node.
	env := newTreeEnv(t, llm.Budget{})
	ctx := context.Background()
	opt := TreeOptions{Workers: 2, Drafts: 3, MaxNodes: 6, NodeSteps: 5, DebugProb: 1, Seed: 1}
	var events []Event
	var evMu sync.Mutex
	env.cfg.Progress = func(e Event) {
		evMu.Lock()
		defer evMu.Unlock()
		events = append(events, e)
	}
	start := time.Now()
	res, err := Tree(ctx, env.cfg, opt)
	if err != nil {
		t.Fatalf("Tree: %v", err)
	}
	t.Logf("tree search took %s: %s", time.Since(start).Round(time.Millisecond), res.Reason)
	for _, p := range env.model.problems {
		t.Error(p)
	}
	if got, want := res.Reason, "max_nodes: 6 nodes"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if res.Baseline < 0.9 || res.Baseline > 1 {
		t.Errorf("baseline %v, want logistic regression's ≈0.97", res.Baseline)
	}

	nodes, steps := storedNodes(t, env.run)
	if got, want := len(nodes), 6; got != want {
		t.Fatalf("%d node steps, want %d", got, want)
	}
	byID := map[int]storedNode{}
	ops := map[string]int{}
	totalSteps := 0
	for _, n := range nodes {
		if n.info.Status != store.StatusDone {
			t.Errorf("node %d: status %s", n.in.Node, n.info.Status)
		}
		if n.out.ID != n.in.Node || n.out.Operator != n.in.Operator || n.out.Parent != n.in.Parent || n.out.Operator == "" {
			t.Errorf("node step %d: input %+v, output id %d operator %q parent %d", n.info.Seq, n.in, n.out.ID, n.out.Operator, n.out.Parent)
		}
		if n.out.Snapshot == "" || n.out.Record == nil {
			t.Errorf("node %d: no snapshot or record: %+v", n.out.ID, n.out)
		}
		byID[n.out.ID] = n
		ops[n.out.Operator]++
		totalSteps += n.out.Steps
	}
	if ops[OpDraft] != 3 || ops[OpDebug] < 1 || ops[OpImprove] < 1 {
		t.Errorf("operators %v, want 3 drafts, a debug and an improve", ops)
	}
	if res.Steps != totalSteps {
		t.Errorf("result has %d steps, the nodes %d", res.Steps, totalSteps)
	}

	// The drafts did what they were told; the crash was debugged.
	var crash, low, knn storedNode
	for _, n := range nodes {
		switch n.out.Draft {
		case 1:
			crash = n
		case 2:
			low = n
		case 3:
			knn = n
		}
	}
	if crash.out.Metric != nil || !strings.Contains(crash.out.Output, "NameError") {
		t.Errorf("the crashing draft: metric %v, output %q", crash.out.Metric, crash.out.Output)
	}
	if low.out.Metric == nil || *low.out.Metric >= res.Baseline || low.out.EvaluatedBy != "tree" {
		t.Errorf("the weak draft: metric %v (baseline %v), evaluated by %q; want below the baseline, scored by the search", low.out.Metric, res.Baseline, low.out.EvaluatedBy)
	}
	if knn.out.Metric == nil || *knn.out.Metric <= res.Baseline || knn.out.EvaluatedBy != "run_experiment" {
		t.Errorf("the KNN draft: metric %v, evaluated by %q; want above the baseline, scored by its own run", knn.out.Metric, knn.out.EvaluatedBy)
	}
	for _, n := range nodes {
		parent, ok := byID[n.out.Parent]
		switch n.out.Operator {
		case OpDraft:
			if n.out.Parent != 0 {
				t.Errorf("draft node %d has parent %d", n.out.ID, n.out.Parent)
			}
		case OpDebug:
			if n.out.Parent != crash.out.ID || n.out.Depth != 1 || n.out.Metric == nil {
				t.Errorf("debug node %d: parent %d (want the crash, %d), depth %d, metric %v", n.out.ID, n.out.Parent, crash.out.ID, n.out.Depth, n.out.Metric)
			}
		case OpImprove:
			if !ok || parent.out.Metric == nil || parent.out.ID >= n.out.ID {
				t.Errorf("improve node %d builds on node %d, which is not a scored earlier node", n.out.ID, n.out.Parent)
			}
		}
	}

	// The best node is the one with the highest accuracy, the earliest among equals.
	var best storedNode
	for _, n := range nodes {
		if n.out.Metric != nil && (best.out.Metric == nil || *n.out.Metric > *best.out.Metric) {
			best = n
		}
	}
	if res.Best == nil || res.Best.Metric == nil {
		t.Fatalf("no best: %+v", res)
	}
	if got, want := res.Best.Run, best.out.ID; got != want {
		t.Errorf("best node %d, want %d (metric %v)", got, want, *best.out.Metric)
	}
	if got, want := *res.Best.Metric, *best.out.Metric; got != want {
		t.Errorf("best metric %v, want %v", got, want)
	}
	code, err := os.ReadFile(filepath.Join(res.BestDir, "train.py"))
	if err != nil {
		t.Fatal(err)
	}
	nodeCode, err := os.ReadFile(filepath.Join(env.run.Dir, "nodes", strconv.Itoa(best.out.ID), "workspace", "train.py"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, nodeCode) {
		t.Errorf("best/train.py is not node %d's code:\n%s", best.out.ID, code)
	}
	if !strings.Contains(res.Diff, "+++ b/train.py") {
		t.Errorf("best.diff lacks train.py:\n%s", res.Diff)
	}
	if _, err := os.Stat(filepath.Join(res.BestDir, ".git")); err == nil {
		t.Errorf("best/ holds a .git")
	}
	arts, err := env.run.Artifacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, ","); got != "best.diff,tree.json" {
		t.Errorf("artifacts %s, want best.diff,tree.json", got)
	}

	// Nodes ran in parallel: two node steps overlap in time.
	if runtime.NumCPU() >= 2 {
		overlap := false
		for i, a := range nodes {
			for _, b := range nodes[i+1:] {
				overlap = overlap || (a.info.Started.Before(b.info.Ended) && b.info.Started.Before(a.info.Ended))
			}
		}
		if !overlap {
			t.Errorf("no two nodes overlapped in time")
		}
	}

	// Every call is linked to its own agent step, whose node it is about.
	calls, err := env.run.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[int64]store.StepInfo{}
	agentSteps := 0
	for _, s := range steps {
		bySeq[s.Seq] = s
		if s.Kind == KindAgent {
			agentSteps++
		}
	}
	if got, want := len(calls), agentSteps; got != want {
		t.Errorf("%d calls for %d agent steps", got, want)
	}
	if agentSteps != totalSteps {
		t.Errorf("%d agent steps in the store, the nodes say %d", agentSteps, totalSteps)
	}
	for _, c := range calls {
		s, ok := bySeq[c.Step]
		if !ok || s.Kind != KindAgent {
			t.Errorf("call %d is linked to step %d (%s), not to an agent step", c.Seq, c.Step, s.Kind)
			continue
		}
		var in agentInput
		json.Unmarshal(s.Input, &in)
		if want := fmt.Sprintf("# Tree search: node %d (", in.Node); in.Node == 0 || !strings.Contains(string(c.Request), want) {
			t.Errorf("call %d, linked to step %d of node %d, is not that node's request", c.Seq, c.Step, in.Node)
		}
	}

	// The display heard of every node.
	ended := 0
	for _, e := range events {
		if e.Kind == "node" && e.Metric != nil || e.Kind == "node" && strings.Contains(e.Message, "failed") {
			ended++
		}
	}
	if ended != 6 {
		t.Errorf("%d node-end events, want 6", ended)
	}
}

// The budget stops the search cleanly: the node it cut short is kept.
func TestTreeSearchStopsAtTheBudget(t *testing.T) {
	// Each call counts 120 tokens: draft 1 takes three calls, draft 2 two,
	// and the budget refuses the fifth.
	env := newTreeEnv(t, llm.Budget{Tokens: 400})
	opt := TreeOptions{Workers: 1, Drafts: 3, MaxNodes: 5, NodeSteps: 5, Seed: 1}
	res, err := Tree(context.Background(), env.cfg, opt)
	if err != nil {
		t.Fatalf("Tree: %v", err)
	}
	if !strings.HasPrefix(res.Reason, "budget: ") {
		t.Errorf("reason %q, want the budget", res.Reason)
	}
	nodes, _ := storedNodes(t, env.run)
	if len(nodes) != 2 {
		t.Fatalf("%d nodes, want 2", len(nodes))
	}
	cut := nodes[1].out
	if cut.Draft != 2 || cut.Metric == nil || !strings.HasPrefix(cut.Reason, "budget: ") || cut.EvaluatedBy != "tree" {
		t.Errorf("the node cut short: %+v", cut)
	}
	if res.Best != nil {
		t.Errorf("best %+v, but no node beat the baseline", res.Best)
	}

	// Resumed with more budget, the search keeps its two nodes and goes on.
	env.meter = llm.NewMeter(llm.Prices{}, llm.Budget{})
	opt.MaxNodes = 4
	res, err = Tree(context.Background(), env.cfg, opt)
	if err != nil {
		t.Fatalf("resumed Tree: %v", err)
	}
	nodes, _ = storedNodes(t, env.run)
	if len(nodes) != 4 {
		t.Fatalf("%d nodes after the resume, want 4", len(nodes))
	}
	for i, n := range nodes {
		if n.out.ID != i+1 {
			t.Errorf("node step %d is node %d, want %d", n.info.Seq, n.out.ID, i+1)
		}
	}
	if n := nodes[2].out; n.Operator != OpDraft || n.Draft != 3 {
		t.Errorf("node 3 is %s, want draft 3", n.describe())
	}
	if res.Best == nil || res.Best.Run < 3 {
		t.Errorf("best %+v, want a node of the resumed search", res.Best)
	}
}

// A search cancelled in the middle returns what it has and leaves no step
// running.
func TestTreeSearchCancelled(t *testing.T) {
	env := newTreeEnv(t, llm.Budget{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.cfg.Progress = func(e Event) {
		if e.Kind == "node" && strings.Contains(e.Message, "→") {
			cancel() // when the first node ends
		}
	}
	opt := TreeOptions{Workers: 2, Drafts: 3, MaxNodes: 6, NodeSteps: 5, Seed: 1}
	res, err := Tree(ctx, env.cfg, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil || !strings.HasPrefix(res.Reason, "stopped: ") {
		t.Fatalf("result %+v, want one stopped", res)
	}
	nodes, _ := storedNodes(t, env.run) // and no step is left running
	done := 0
	for _, n := range nodes {
		if n.info.Status == store.StatusDone {
			done++
		}
	}
	if done == 0 || done > 2 || len(nodes) > 2 {
		t.Errorf("%d nodes begun, %d done; want the first done and no more than 2 begun", len(nodes), done)
	}
	phases, err := env.run.Phases(context.Background())
	if err != nil || len(phases) != 1 || phases[0].Status != store.StatusStopped {
		t.Errorf("phases %+v, %v; want experiment stopped", phases, err)
	}
}
