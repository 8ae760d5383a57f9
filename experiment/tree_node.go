package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/snapshot"
	"github.com/mlrc/mlrc/store"
)

// runNode runs one node as a store step.
func (s *search) runNode(ctx context.Context, n, parent *node) nodeOutcome {
	s.progress(Event{Kind: "node", Step: n.ID, Action: n.Operator, Baseline: s.baseline, Best: s.tree.best(),
		Message: fmt.Sprintf("%d (%s) begins", n.ID, n.describe())})
	step, err := s.cfg.Run.BeginStep(ctx, Phase, KindNode, nodeInput{Node: n.ID, Parent: n.Parent, Operator: n.Operator, Draft: n.Draft, Depth: n.Depth})
	if err != nil {
		return nodeOutcome{err: err}
	}
	s.cfg.Run.Emit(ctx, "node", map[string]any{"node": n.ID, "parent": n.Parent, "operator": n.Operator, "status": store.StatusRunning})
	out := s.episode(ctx, n, parent)
	end := context.WithoutCancel(ctx)
	switch {
	case out.err != nil && ctx.Err() != nil:
		step.End(end, store.StatusStopped, map[string]any{"node": n.ID, "interrupted": true, "error": out.err.Error()})
	case out.err != nil:
		step.End(end, store.StatusFailed, map[string]any{"node": n.ID, "error": out.err.Error()})
	case out.node == nil:
		step.End(end, store.StatusStopped, map[string]any{"node": n.ID, "dropped": out.halt})
	default:
		if err := step.End(ctx, store.StatusDone, out.node); err != nil {
			return nodeOutcome{err: err}
		}
	}
	return out
}

// report tells the display and the run how a node ended.
func (s *search) report(ctx context.Context, n *node, out nodeOutcome) {
	if out.node == nil {
		return
	}
	e := Event{Kind: "node", Step: n.ID, Action: n.Operator, Metric: out.node.Metric, Best: s.tree.best(), Baseline: s.baseline}
	result := "failed: " + agent.Clip(out.node.Error, 100)
	if out.node.Metric != nil {
		result = fmt.Sprintf("%s = %.6g", s.cfg.Task.Metric.Name, *out.node.Metric)
	}
	e.Message = fmt.Sprintf("%d (%s) → %s", n.ID, n.describe(), result)
	s.progress(e)
	s.cfg.Run.Emit(ctx, "node", map[string]any{"node": n.ID, "parent": n.Parent, "operator": n.Operator, "status": store.StatusDone,
		"metric": out.node.Metric, "error": out.node.Error, "snapshot": out.node.Snapshot})
	s.cfg.Log.Info("node done", "node", n.ID, "operator", n.Operator, "parent", n.Parent, "result", result, "steps", out.node.Steps)
}

// episode runs the node's agent in its own workspace, then commits and
// scores what it left.
func (s *search) episode(ctx context.Context, n, parent *node) nodeOutcome {
	dir := filepath.Join(s.cfg.Run.Dir, "nodes", strconv.Itoa(n.ID), "workspace")
	from := s.st.prototype
	if parent != nil {
		from = parent.Snapshot
	}
	repo, err := s.worktree(ctx, dir, from)
	if err != nil {
		return nodeOutcome{err: err}
	}
	ws, err := NewWorkspace(dir, s.cfg.Task.Protected)
	if err != nil {
		return nodeOutcome{err: err}
	}
	brief, err := s.brief(ctx, n, parent)
	if err != nil {
		return nodeOutcome{err: err}
	}
	tracker := &Tracker{Goal: s.cfg.Task.Metric.Goal, Metric: s.cfg.Task.Metric.Name, Baseline: s.baseline}
	// The new work tree is exactly from.
	checks := &checkpoints{repo: repo, ws: ws, last: from}
	rt := &runTool{lab: s.lab, ws: ws, snaps: checks, tracker: tracker}
	tools := []agent.Tool{listFilesTool(ws), readFileTool(ws), editFileTool(ws), writeFileTool(ws), undoTool(ws),
		inspectDataTool(ws), rt.tool(), finalTool(Gates{})}
	if s.cfg.Catalog != nil {
		tools = append(tools, retrieveTool(s.cfg.Catalog))
	}
	system, _ := prompts.ReadFile("prompts/system.md")
	var open *store.Step // the agent step under way
	a := &agent.Agent{
		Model: llm.ProviderFunc(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
			return s.model(open).Complete(ctx, req)
		}),
		System:   string(system),
		Brief:    brief,
		Tools:    tools,
		MaxSteps: s.opt.NodeSteps,
		Checks:   append(agent.DefaultChecks(), DebugBudget(s.cfg.DebugBudget)),
		Before: func(ctx context.Context, next int, _ []agent.Step) (agent.Gate, error) {
			if !s.deadline.IsZero() && time.Now().After(s.deadline) {
				return agent.Gate{Stop: true, Reason: fmt.Sprintf("total_time: the run's limit of %s is reached", s.cfg.Task.Limits.TotalTime)}, nil
			}
			st, err := s.cfg.Run.BeginStep(ctx, Phase, KindAgent, agentInput{Node: n.ID, N: next})
			if err != nil {
				return agent.Gate{}, err
			}
			open = st
			return agent.Gate{}, nil
		},
		After: func(ctx context.Context, st agent.Step) error {
			commit, err := checks.commit(ctx, fmt.Sprintf("node %d step %d", n.ID, st.N))
			if err != nil {
				return err
			}
			if err := open.End(ctx, store.StatusDone, agentStepOutput{Step: st, Snapshot: commit}); err != nil {
				return err
			}
			open = nil
			e := Event{Kind: "step", Step: st.N, Action: fmt.Sprintf("[node %d] %s", n.ID, stepAction(st)), Baseline: s.baseline, Best: s.tree.best()}
			if rs := runRecords(st); len(rs) > 0 {
				e.Metric = rs[len(rs)-1].Metric
			}
			s.cfg.Run.Emit(ctx, "step", e)
			s.progress(e)
			return nil
		},
	}
	stopped, runErr := a.Run(ctx, nil)
	if open != nil {
		open.End(context.WithoutCancel(ctx), store.StatusStopped, map[string]any{"interrupted": true, "error": fmt.Sprint(runErr)})
	}
	var halt string
	var budget *llm.BudgetError
	switch {
	case errors.As(runErr, &budget):
		// The budget is spent: keep what the node did, stop the search.
		halt = "budget: " + budget.Error()
	case runErr != nil:
		return nodeOutcome{err: fmt.Errorf("node %d: %w", n.ID, runErr)}
	}
	commit, err := checks.commit(ctx, fmt.Sprintf("node %d", n.ID))
	if err != nil {
		return nodeOutcome{err: err}
	}
	if halt != "" && commit == from {
		return nodeOutcome{halt: halt} // nothing done worth scoring
	}
	rec, output, by, err := s.evaluate(ctx, dir, tracker, stopped.Steps, commit)
	if err == nil {
		err = ctx.Err() // a run cut off by the end of ctx says nothing of the code
	}
	if err != nil {
		return nodeOutcome{err: err, halt: halt}
	}
	done := node{ID: n.ID, Parent: n.Parent, Operator: n.Operator, Draft: n.Draft, Depth: n.Depth}
	done.Snapshot, done.Record, done.Metric, done.Error = commit, &rec, rec.Metric, rec.Error
	done.EvaluatedBy, done.Output = by, agent.Clip(output, 4000)
	done.Summary, done.Steps, done.Reason, done.Dir = finalSummary(stopped.Steps), len(stopped.Steps), stopped.Reason, dir
	if halt != "" {
		done.Reason = halt
	}
	return nodeOutcome{node: &done, halt: halt}
}

// model returns the model recording to the open step; without
// cfg.ModelFor, cfg.Model, whose calls are then recorded unlinked.
func (s *search) model(open *store.Step) agent.Model {
	if s.cfg.ModelFor == nil || open == nil {
		return s.cfg.Model
	}
	return s.cfg.ModelFor(open.Recorder())
}

// evaluate scores a node's final workspace: the episode's last run when it
// measured exactly this code (no file was changed after it), else a new run.
func (s *search) evaluate(ctx context.Context, dir string, tracker *Tracker, steps []agent.Step, commit string) (RunRecord, string, string, error) {
	if rec, output, ok := lastRun(steps); ok {
		return rec, output, "run_experiment", nil
	}
	rec, res, score, evalErr, err := measure(ctx, s.lab, dir)
	if err != nil {
		return RunRecord{}, "", "", err
	}
	rec.Run, rec.Snapshot = tracker.next(), commit
	newBest := tracker.Add(rec)
	return rec, describeRun(s.lab, tracker, rec, res, score, evalErr, newBest), "tree", nil
}

// lastRun returns the episode's last experiment run and its report, if no
// file was changed after it.
func lastRun(steps []agent.Step) (RunRecord, string, bool) {
	for i := len(steps) - 1; i >= 0; i-- {
		outs := steps[i].Outcomes
		for j := len(outs) - 1; j >= 0; j-- {
			o := outs[j]
			switch o.Call.Name {
			case "write_file", "edit_file", "undo":
				if !o.IsError {
					return RunRecord{}, "", false
				}
			case "run_experiment":
				var r RunRecord
				if o.Data != nil && json.Unmarshal(o.Data, &r) == nil && r.Run > 0 {
					return r, o.Content, true
				}
			}
		}
	}
	return RunRecord{}, "", false
}

// finalSummary is what the episode's final answer said.
func finalSummary(steps []agent.Step) string {
	for i := len(steps) - 1; i >= 0; i-- {
		for _, o := range steps[i].Outcomes {
			if o.Call.Name != "final_answer" || o.IsError {
				continue
			}
			var p finalParams
			if json.Unmarshal(o.Call.Arguments, &p) == nil {
				return p.Summary
			}
		}
	}
	return ""
}

// worktree makes dir a new work tree of the run's snapshot repository,
// holding commit from, and returns a Repo committing from it. Each work
// tree has its own index and HEAD (git's linked work trees) and all share
// one object store, so nodes commit in parallel safely. The .git file git
// leaves in dir is removed: the repository stays outside the workspace.
// The work tree is locked so that git never prunes it.
func (s *search) worktree(ctx context.Context, dir, from string) (*snapshot.Repo, error) {
	s.gitMu.Lock()
	defer s.gitMu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", s.d.snapshots, "worktree", "add", "--quiet", "--detach", "--lock", dir, from)
	cmd.Dir = s.cfg.Run.Dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("node workspace: git worktree add: %v: %s", err, strings.TrimSpace(string(out)))
	}
	link := filepath.Join(dir, ".git")
	b, err := os.ReadFile(link)
	if err != nil {
		return nil, fmt.Errorf("node workspace: %w", err)
	}
	gitDir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
	if !ok {
		return nil, fmt.Errorf("node workspace: %s: unexpected content %q", link, b)
	}
	if !filepath.IsAbs(gitDir) {
		gitDir = filepath.Join(dir, gitDir)
	}
	if err := os.Remove(link); err != nil {
		return nil, err
	}
	return snapshot.Open(ctx, gitDir, dir)
}

// diffExcludes keeps run outputs (predictions, logs) out of the code shown
// to a node: they would drown the changes that matter.
var diffExcludes = []string{":(exclude,glob)**/*.csv", ":(exclude,glob)**/*.tsv", ":(exclude,glob)**/*.log"}

// brief is the node's brief: the run's, then what this node is to do, its
// parent's code (as a diff against the prototype) and last run, and the
// other nodes so far.
func (s *search) brief(ctx context.Context, n, parent *node) (string, error) {
	cfg := s.cfg
	cfg.MaxSteps = s.opt.NodeSteps
	base, err := renderBrief(cfg, &s.baseline)
	if err != nil {
		return "", err
	}
	data := map[string]any{
		"ID": n.ID, "Operator": n.Operator, "Draft": n.Draft, "Drafts": s.opt.Drafts, "Steps": s.opt.NodeSteps,
		"Metric": cfg.Task.Metric.Name, "Baseline": fmt.Sprintf("%.6g", s.baseline), "Others": s.tree.memory(n.ID),
	}
	if parent != nil {
		diff, err := s.snaps.Diff(ctx, s.st.prototype, parent.Snapshot, diffExcludes...)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(diff) == "" {
			diff = "(no changes)"
		}
		data["Parent"], data["Diff"], data["Output"] = parent.ID, agent.Clip(diff, 10000), agent.Clip(parent.Output, 4000)
		if parent.Metric != nil {
			data["Value"] = fmt.Sprintf("%.6g", *parent.Metric)
		}
	}
	text, _ := prompts.ReadFile("prompts/tree_node.md")
	tmpl, err := template.New("tree_node").Parse(string(text))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("\n\n")
	if err := tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}
