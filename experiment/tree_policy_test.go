package experiment

import (
	"context"
	"testing"

	"github.com/mlrc/mlrc/task"
)

func TestTreePolicy(t *testing.T) {
	score := func(v float64) *float64 { return &v }
	done := func(id, parent int, op string, depth int, metric *float64) *node {
		return &node{ID: id, Parent: parent, Operator: op, Depth: depth, Metric: metric, done: true, Record: &RunRecord{Metric: metric}}
	}
	tests := []struct {
		name       string
		goal       task.Goal
		debugProb  float64
		nodes      []*node
		wantOp     string
		wantParent int
	}{
		{"drafts first", task.Maximize, 1, []*node{done(1, 0, OpDraft, 0, nil)}, OpDraft, 0},
		{"debug a failed leaf", task.Maximize, 1,
			[]*node{done(1, 0, OpDraft, 0, nil), done(2, 0, OpDraft, 0, score(0.9)), done(3, 0, OpDraft, 0, score(0.8))}, OpDebug, 1},
		{"improve the best when not debugging", task.Maximize, -1,
			[]*node{done(1, 0, OpDraft, 0, nil), done(2, 0, OpDraft, 0, score(0.9)), done(3, 0, OpDraft, 0, score(0.95))}, OpImprove, 3},
		{"the best is the lowest when minimizing", task.Minimize, -1,
			[]*node{done(1, 0, OpDraft, 0, score(3)), done(2, 0, OpDraft, 0, score(2)), done(3, 0, OpDraft, 0, score(2))}, OpImprove, 2},
		{"a failed node with a child is no leaf", task.Maximize, 1,
			[]*node{done(1, 0, OpDraft, 0, nil), done(2, 0, OpDraft, 0, score(0.9)), done(3, 0, OpDraft, 0, score(0.8)), {ID: 4, Parent: 1, Operator: OpDebug, Depth: 1}},
			OpImprove, 2},
		{"a chain debugged to the limit is left", task.Maximize, 1,
			[]*node{done(1, 0, OpDraft, 0, score(0.9)), done(2, 0, OpDraft, 0, score(0.8)), done(3, 0, OpDraft, 0, nil),
				done(4, 3, OpDebug, 1, nil), done(5, 4, OpDebug, 2, nil), done(6, 5, OpDebug, 3, nil)},
			OpImprove, 1},
		{"a draft while nothing scores", task.Maximize, 1,
			[]*node{done(1, 0, OpDraft, 0, nil), done(2, 1, OpDebug, 1, nil), done(3, 2, OpDebug, 2, nil), done(4, 3, OpDebug, 3, nil),
				{ID: 5, Operator: OpDraft, Draft: 2}, {ID: 6, Operator: OpDraft, Draft: 3}},
			OpDraft, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drafts := 0
			for _, n := range tt.nodes {
				if n.Operator == OpDraft {
					drafts++
					n.Draft = drafts
				}
			}
			var done []*node
			for _, n := range tt.nodes {
				if n.done {
					done = append(done, n)
				}
			}
			tr := newTree(TreeOptions{Drafts: 3, MaxNodes: 10, MaxDebugDepth: 3, DebugProb: tt.debugProb}, tt.goal, done, len(tt.nodes))
			// Running nodes are in the tree too.
			for _, n := range tt.nodes {
				if !n.done {
					tr.nodes = append(tr.nodes, n)
					if n.Operator == OpDraft {
						tr.drafts++
						tr.draftNo = max(tr.draftNo, n.Draft)
					}
					for _, p := range tr.nodes {
						if p.ID == n.Parent {
							p.children++
						}
					}
				}
			}
			n, parent, ok := tr.next(context.Background())
			if !ok {
				t.Fatal("no next node")
			}
			gotParent := 0
			if parent != nil {
				gotParent = parent.ID
			}
			if n.Operator != tt.wantOp || gotParent != tt.wantParent || n.Parent != gotParent {
				t.Errorf("next = %s of %d (node parent %d), want %s of %d", n.Operator, gotParent, n.Parent, tt.wantOp, tt.wantParent)
			}
			if got, want := n.ID, len(tt.nodes)+1; got != want {
				t.Errorf("id %d, want %d", got, want)
			}
		})
	}
}

func TestTreeStopsAtMaxNodes(t *testing.T) {
	tr := newTree(TreeOptions{Drafts: 2, MaxNodes: 3, MaxDebugDepth: 3, DebugProb: 0.5}, task.Maximize, nil, 0)
	for i := range 3 {
		if _, _, ok := tr.next(context.Background()); !ok {
			t.Fatalf("node %d refused", i+1)
		}
	}
	if _, _, ok := tr.next(context.Background()); ok {
		t.Fatal("a fourth node was begun")
	}
	if reason, err := tr.outcome(); reason != "max_nodes: 3 nodes" || err != nil {
		t.Errorf("outcome %q, %v", reason, err)
	}
}

func TestWorkerLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		want, cpus     int
		memory, perRun int64
		got            int
	}{
		{4, 8, 64 * gib, 4 * gib, 4},
		{4, 2, 64 * gib, 4 * gib, 2},
		{4, 8, 10 * gib, 4 * gib, 2},
		{4, 8, 2 * gib, 4 * gib, 1},
		{0, 8, 64 * gib, 4 * gib, 1},
		{3, 8, 0, 4 * gib, 3}, // memory unknown
	}
	for _, tt := range tests {
		if got := workerLimit(tt.want, tt.cpus, tt.memory, tt.perRun); got != tt.got {
			t.Errorf("workerLimit(%d, %d cpus, %d GiB, %d GiB) = %d, want %d", tt.want, tt.cpus, tt.memory/gib, tt.perRun/gib, got, tt.got)
		}
	}
}
