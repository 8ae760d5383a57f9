package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// node is one node of the tree. Its identity (ID to Depth) is fixed when it
// is created; the rest is set, under the tree's lock, when it is done.
type node struct {
	ID       int    `json:"node"`
	Parent   int    `json:"parent,omitempty"` // 0: the prototype
	Operator string `json:"operator"`
	Draft    int    `json:"draft,omitempty"`       // drafts are numbered 1, 2, …
	Depth    int    `json:"debug_depth,omitempty"` // debugs in a row up to this node

	Snapshot string     `json:"snapshot,omitempty"` // the workspace the episode left
	Metric   *float64   `json:"metric,omitempty"`
	Error    string     `json:"error,omitempty"`
	Record   *RunRecord `json:"record,omitempty"` // the run that scored it
	// EvaluatedBy is "run_experiment" when the episode's last run measured
	// its final code, "tree" when the search ran it after the episode.
	EvaluatedBy string `json:"evaluated_by,omitempty"`
	Output      string `json:"output,omitempty"`  // the scoring run's report, cut
	Summary     string `json:"summary,omitempty"` // the final answer
	Steps       int    `json:"steps"`
	Reason      string `json:"reason,omitempty"` // why the episode ended
	Dir         string `json:"dir,omitempty"`

	done     bool
	children int // begun, done or not
}

func (n *node) buggy() bool { return n.done && n.Metric == nil }
func (n *node) good() bool  { return n.done && n.Metric != nil }

// describe says what a node does: "draft 2", "debug of node 3".
func (n *node) describe() string {
	if n.Operator == OpDraft {
		return fmt.Sprintf("draft %d", n.Draft)
	}
	return fmt.Sprintf("%s of node %d", n.Operator, n.Parent)
}

// nodeInput is a node step's input.
type nodeInput struct {
	Node     int    `json:"node"`
	Parent   int    `json:"parent,omitempty"`
	Operator string `json:"operator"`
	Draft    int    `json:"draft,omitempty"`
	Depth    int    `json:"debug_depth,omitempty"`
}

// agentInput is the input of an agent step inside a node.
type agentInput struct {
	Node int `json:"node"`
	N    int `json:"n"`
}

// tree is the search's state: the nodes, the policy's randomness and why
// the search stops. One lock guards it all.
type tree struct {
	opt  TreeOptions
	goal task.Goal

	mu      sync.Mutex
	rng     *rand.Rand
	nodes   []*node // by id; done or running
	lastID  int
	drafts  int    // drafts begun, or done before a resume: the policy counts them
	draftNo int    // the last draft's number
	stop    string // why no more nodes are begun; "" while going on
	err     error

	deadline time.Time // the task's total_time, from the run's start; zero: none
	limit    time.Duration
}

func newTree(opt TreeOptions, goal task.Goal, done []*node, lastID int) *tree {
	t := &tree{opt: opt, goal: goal, rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x6d6c7263)), lastID: lastID}
	byID := map[int]*node{}
	for _, n := range done {
		byID[n.ID] = n
		t.nodes = append(t.nodes, n)
		if n.Operator == OpDraft {
			t.drafts++
			t.draftNo = max(t.draftNo, n.Draft)
		}
	}
	for _, n := range done {
		if p := byID[n.Parent]; p != nil {
			p.children++
		}
	}
	return t
}

// choose is the policy: what the next node does, and to which node.
func (t *tree) choose() (op string, parent *node) {
	if t.drafts < t.opt.Drafts {
		return OpDraft, nil
	}
	if t.rng.Float64() < t.opt.DebugProb {
		var leaves []*node
		for _, n := range t.nodes {
			if n.buggy() && n.children == 0 && n.Depth < t.opt.MaxDebugDepth {
				leaves = append(leaves, n)
			}
		}
		if len(leaves) > 0 {
			return OpDebug, leaves[t.rng.IntN(len(leaves))]
		}
	}
	if best := t.bestLocked(); best != nil {
		return OpImprove, best
	}
	return OpDraft, nil
}

// bestLocked is the node with the best metric, the earliest among equals.
func (t *tree) bestLocked() *node {
	var best *node
	for _, n := range t.nodes {
		if n.good() && (best == nil || better(t.goal, *n.Metric, *best.Metric)) {
			best = n
		}
	}
	return best
}

// next begins a node, or says the search is over. parent is a copy of the
// node it starts from, nil for a draft.
func (t *tree) next(ctx context.Context) (n, parent *node, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop == "" {
		switch {
		case ctx.Err() != nil:
			t.stop = "stopped: " + context.Cause(ctx).Error()
		case !t.deadline.IsZero() && time.Now().After(t.deadline):
			t.stop = fmt.Sprintf("total_time: the run's limit of %s is reached", t.limit)
		case len(t.nodes) >= t.opt.MaxNodes:
			t.stop = fmt.Sprintf("max_nodes: %d nodes", t.opt.MaxNodes)
		}
	}
	if t.stop != "" {
		return nil, nil, false
	}
	op, p := t.choose()
	t.lastID++
	n = &node{ID: t.lastID, Operator: op}
	switch op {
	case OpDraft:
		t.drafts++
		t.draftNo++
		n.Draft = t.draftNo
	case OpDebug:
		n.Depth = p.Depth + 1
	}
	if p != nil {
		p.children++
		n.Parent = p.ID
		c := *p
		parent = &c
	}
	t.nodes = append(t.nodes, n)
	return n, parent, true
}

// nodeOutcome is how a node's episode ended.
type nodeOutcome struct {
	node *node  // the finished node, when it is kept
	halt string // why the search must stop (the budget), "" to go on
	err  error  // an infrastructure failure
}

// finish records a node's outcome. A node not kept (cut off, failed) leaves
// the tree; the search stops when told to or on an error.
func (t *tree) finish(n *node, out nodeOutcome, cancelled bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if out.halt != "" && t.stop == "" {
		t.stop = out.halt
	}
	if out.err != nil && !cancelled && t.err == nil {
		t.err, t.stop = out.err, "error: "+out.err.Error()
	}
	if out.node != nil {
		children := n.children
		*n = *out.node
		n.children, n.done = children, true
		return
	}
	// Only a search that stops drops nodes: nothing is begun in their place.
	for i, m := range t.nodes {
		if m == n {
			t.nodes = append(t.nodes[:i], t.nodes[i+1:]...)
			break
		}
	}
	for _, m := range t.nodes {
		if m.ID == n.Parent {
			m.children--
		}
	}
}

// outcome is why the search ended, and its error.
func (t *tree) outcome() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stop, t.err
}

// done returns copies of the finished nodes, by id.
func (t *tree) done() []node {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []node
	for _, n := range t.nodes {
		if n.done {
			out = append(out, *n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// best returns the best metric so far.
func (t *tree) best() *float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.bestLocked(); b != nil {
		v := *b.Metric
		return &v
	}
	return nil
}

// memory lists the finished nodes other than id, one line each, for a
// node's brief: what was tried and how it went.
func (t *tree) memory(id int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for _, n := range t.nodes {
		if !n.done || n.ID == id {
			continue
		}
		result := "failed: " + agent.Clip(n.Error, 100)
		if n.Metric != nil {
			result = fmt.Sprintf("%.6g", *n.Metric)
		}
		line := fmt.Sprintf("- node %d (%s): %s", n.ID, n.describe(), result)
		if n.Summary != "" {
			line += " — " + agent.Clip(strings.Join(strings.Fields(n.Summary), " "), 160)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// loadNodes reads back the nodes a run completed, and the highest node id
// it began.
func loadNodes(ctx context.Context, run *store.Run) ([]*node, int, error) {
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, 0, err
	}
	var nodes []*node
	last := 0
	for _, s := range steps {
		if s.Phase != Phase || s.Kind != KindNode {
			continue
		}
		var in nodeInput
		if err := json.Unmarshal(s.Input, &in); err != nil {
			return nil, 0, fmt.Errorf("resume: node step %d: %w", s.Seq, err)
		}
		last = max(last, in.Node)
		if s.Status != store.StatusDone {
			continue
		}
		var n node
		if err := json.Unmarshal(s.Output, &n); err != nil {
			return nil, 0, fmt.Errorf("resume: node step %d: %w", s.Seq, err)
		}
		if n.Record == nil {
			continue
		}
		n.done = true
		nodes = append(nodes, &n)
	}
	return nodes, last, nil
}
