package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/internal/meminfo"
	"github.com/mlrc/mlrc/snapshot"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// KindNode is the store kind of a tree-search node; the agent steps inside
// a node are KindAgent steps whose input names the node.
const KindNode = "node"

// The operators of tree search: what a node does with its parent.
const (
	OpDraft   = "draft"   // start from the prototype and implement the plan
	OpDebug   = "debug"   // fix a node whose last run failed
	OpImprove = "improve" // make one focused improvement to the best node
)

// TreeOptions shape a tree search. Zero values take the defaults.
type TreeOptions struct {
	// Workers run nodes in parallel; at most runtime.NumCPU() and as many
	// as the machine's memory holds at the task's memory limit. Default 1.
	Workers int
	// Drafts are the nodes started from the prototype first. Default 3.
	Drafts int
	// MaxNodes bounds the search. Default cfg.MaxSteps / NodeSteps, at
	// least Drafts+2.
	MaxNodes int
	// NodeSteps are the agent steps of one node. Default 8.
	NodeSteps int
	// MaxDebugDepth bounds the debug attempts along one failing chain.
	// Default 3.
	MaxDebugDepth int
	// DebugProb is the chance to debug a failed leaf rather than improve
	// the best node. Zero means 0.5; a negative value never debugs.
	DebugProb float64
	// Seed drives the policy's choices: with one worker a search is
	// deterministic given it; with several, it also depends on the order
	// in which nodes finish.
	Seed int64
}

func (o TreeOptions) withDefaults(cfg Config) TreeOptions {
	if o.Drafts <= 0 {
		o.Drafts = 3
	}
	if o.NodeSteps <= 0 {
		o.NodeSteps = 8
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = max(cfg.MaxSteps/o.NodeSteps, o.Drafts+2)
	}
	if o.MaxDebugDepth <= 0 {
		o.MaxDebugDepth = 3
	}
	if o.DebugProb == 0 {
		o.DebugProb = 0.5
	}
	o.Workers = workerLimit(o.Workers, runtime.NumCPU(), meminfo.Total(), cfg.Task.Limits.Memory)
	return o
}

// workerLimit bounds the wanted workers by the CPUs and by how many
// experiments fit in memory at the task's limit; at least 1.
func workerLimit(want, cpus int, memory, perRun int64) int {
	n := max(want, 1)
	if cpus > 0 {
		n = min(n, cpus)
	}
	if memory > 0 && perRun > 0 {
		n = min(n, int(memory/perRun))
	}
	return max(n, 1)
}

// Tree runs the ExperimentAgent as a tree search in the manner of AIDE.
// After the same setup and baseline as Run, workers take nodes from the
// policy as soon as they are free: first Drafts drafts from the prototype;
// then, with probability DebugProb, a debug of a failed leaf (fewer than
// MaxDebugDepth debugs deep); otherwise an improvement of the best node
// (a draft while no node has a metric). Each node is a short agent episode
// in its own workspace, cfg.Run.Dir/nodes/<id>/workspace, holding its
// parent's code; when it ends, its workspace is committed and scored. The
// search stops at MaxNodes, at the task's total_time, when the budget is
// spent (cleanly: what exists is kept) or when ctx is done.
//
// The result is as Run's: the best node's code in cfg.Run.Dir/best and
// best.diff, Result.Best its measured run with Run set to the node's id.
// tree.json lists every node. On an error (ctx done, an infrastructure
// failure) Tree still exports the best node found and returns the result
// with the error.
//
// A resumed run keeps the nodes completed before; nodes that were cut off
// are started anew under new ids.
func Tree(ctx context.Context, cfg Config, opt TreeOptions) (*Result, error) {
	cfg = withDefaults(cfg)
	if cfg.Gates.on() {
		return nil, errors.New("tree search runs unattended: its nodes run in parallel and cannot stop at human gates; run it without --human, or use --search linear")
	}
	if cfg.Reference == task.ReferenceFirstRun {
		return nil, errors.New("tree search needs a baseline: with reference first-run (a template prototype), run the linear search (--search linear), whose first working run becomes the reference")
	}
	opt = opt.withDefaults(cfg)
	d := runDirs(cfg.Run)
	st, err := load(ctx, cfg.Run)
	if err != nil {
		return nil, err
	}
	done, lastID, err := loadNodes(ctx, cfg.Run)
	if err != nil {
		return nil, err
	}
	if err := cfg.Run.BeginPhase(ctx, Phase); err != nil {
		return nil, err
	}
	lab := &Lab{Task: cfg.Task, Sandbox: cfg.Sandbox, Isolation: cfg.Isolation, Private: d.private, Options: task.Options{Python: cfg.Python, Seed: cfg.Seed}}
	s := &search{cfg: cfg, opt: opt, lab: lab, d: d, st: st, tree: newTree(opt, cfg.Task.Metric.Goal, done, lastID)}
	res, err := s.run(ctx)
	status := store.StatusDone
	if err != nil {
		status = store.StatusFailed
		if errors.Is(err, context.Canceled) {
			status = store.StatusStopped
		}
	}
	if perr := cfg.Run.EndPhase(context.WithoutCancel(ctx), Phase, status); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

// search is one tree search: its settings, and the tree.
type search struct {
	cfg      Config
	opt      TreeOptions
	lab      *Lab
	d        dirs
	st       *state
	snaps    *snapshot.Repo // the run's repository, on the main workspace
	baseline float64
	deadline time.Time // zero: none
	tree     *tree

	gitMu      sync.Mutex // git worktree add picks its directory name racily
	progressMu sync.Mutex
}

// progress tells the display, one event at a time.
func (s *search) progress(e Event) {
	if s.cfg.Progress != nil {
		s.progressMu.Lock()
		defer s.progressMu.Unlock()
		s.cfg.Progress(e)
	}
}

func (s *search) run(ctx context.Context) (*Result, error) {
	snaps, err := prepare(ctx, s.cfg, s.lab, s.d, s.st, s.progress)
	if err != nil {
		return nil, err
	}
	s.snaps, s.baseline = snaps, *s.st.baseline.Metric
	s.progress(Event{Kind: "baseline", Baseline: s.baseline, Message: fmt.Sprintf("baseline %s = %.6g", s.cfg.Task.Metric.Name, s.baseline)})
	if t := s.cfg.Task.Limits.TotalTime; t > 0 {
		info, err := s.cfg.Run.Info(ctx)
		if err != nil {
			return nil, err
		}
		s.deadline = info.Created.Add(t)
		s.tree.deadline, s.tree.limit = s.deadline, t
	}
	s.cfg.Log.Info("tree search", "workers", s.opt.Workers, "drafts", s.opt.Drafts, "max_nodes", s.opt.MaxNodes, "node_steps", s.opt.NodeSteps)

	// A node that fails for want of infrastructure ends the search: the
	// others are cancelled rather than left to finish.
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Go(func() {
			for {
				n, parent, ok := s.tree.next(wctx)
				if !ok {
					return
				}
				out := s.runNode(wctx, n, parent)
				interrupted := wctx.Err() != nil
				s.tree.finish(n, out, interrupted)
				if out.err != nil && !interrupted {
					cancel(out.err)
				}
				s.report(ctx, n, out)
			}
		})
	}
	wg.Wait()
	reason, err := s.tree.outcome()
	if err == nil && ctx.Err() != nil {
		reason, err = "stopped: "+ctx.Err().Error(), ctx.Err()
	}
	fctx := ctx
	if ctx.Err() != nil {
		var stop context.CancelFunc
		fctx, stop = context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer stop()
	}
	res, ferr := s.finish(fctx, reason)
	if err == nil {
		err = ferr
	}
	return res, err
}

// finish exports the best node, as Run does its best run, and writes
// tree.json.
func (s *search) finish(ctx context.Context, reason string) (*Result, error) {
	nodes := s.tree.done()
	tracker := &Tracker{Goal: s.cfg.Task.Metric.Goal, Metric: s.cfg.Task.Metric.Name, Baseline: s.baseline}
	steps := 0
	for _, n := range nodes {
		r := *n.Record
		r.Run = n.ID
		tracker.Add(r)
		steps += n.Steps
	}
	res, err := finish(ctx, s.cfg, s.snaps, s.d, s.st, tracker, &agent.Stopped{Reason: reason})
	if err != nil {
		return nil, err
	}
	res.Steps = steps
	best := 0
	if res.Best != nil {
		best = res.Best.Run
		res.Workspace = filepath.Join(s.cfg.Run.Dir, "nodes", strconv.Itoa(best), "workspace")
	}
	doc := map[string]any{"metric": res.Metric, "goal": res.Goal, "baseline": res.Baseline, "reason": reason, "best": best, "nodes": nodes}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.cfg.Run.Dir, "tree.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := s.cfg.Run.AddArtifact(ctx, "tree.json", "tree.json", "tree"); err != nil {
		return nil, err
	}
	return res, nil
}
