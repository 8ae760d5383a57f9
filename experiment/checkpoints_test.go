package experiment

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/scripted"
)

// TestSnapshotOnlyAfterChanges: a step that only reads makes no commit; a
// write, an undo and an experiment run each make the workspace be recorded
// again.
func TestSnapshotOnlyAfterChanges(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		toolCall("read_file", map[string]any{"path": "train.py"}),                        // 1: read
		toolCall("list_files", nil),                                                      // 2: read
		toolCall("write_file", map[string]any{"path": "notes.txt", "content": "a note"}), // 3: write
		toolCall("read_file", map[string]any{"path": "notes.txt"}),                       // 4: read
		toolCall("undo", nil),                                                            // 5: undo
		toolCall("run_experiment", nil),                                                  // 6: run
		toolCall("final_answer", map[string]any{"summary": "baseline"}),                  // 7
	})
	cfg, run := linearConfig(t, m)
	// Count the snapshots taken: a git on PATH that logs each "add".
	real, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	bin, log := t.TempDir(), filepath.Join(t.TempDir(), "git.log")
	wrapper := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = add ] && echo add >>" + log + "; done\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--git-dir", filepath.Join(run.Dir, "snapshots.git"), "log", "--all", "--format=%s").Output()
	if err != nil {
		t.Fatal(err)
	}
	msgs := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, want := range []string{"prototype", "step 3", "step 5"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no commit %q after a change; commits: %q", want, msgs)
		}
	}
	for _, reader := range []string{"step 1", "step 2", "step 4", "step 7"} {
		if slices.Contains(msgs, reader) {
			t.Errorf("commit %q made after a step that changed nothing; commits: %q", reader, msgs)
		}
	}
	// prototype, steps 3, 5 and 6, and the run's own look before it starts
	// (what runs must be what is recorded): one "git add" each.
	b, _ := os.ReadFile(log)
	if n := strings.Count(string(b), "add"); n != 5 {
		t.Errorf("%d snapshots taken, want 5 (the prototype, the run, and the three steps that changed the workspace)", n)
	}
	// The run reuses the commit of step 5: nothing changed in between.
	if slices.Contains(msgs, "run 1") {
		t.Errorf("run_experiment committed an unchanged workspace again; commits: %q", msgs)
	}
}
