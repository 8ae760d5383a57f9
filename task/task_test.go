package task

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTask makes a task directory with a workspace and the given task.yaml.
func writeTask(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "workspace"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace", "train.py"), []byte("print('hi')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const minimal = `name: toy
problem: Predict things.
workspace: workspace
run: python3 train.py
evaluate: python3 {task}/eval.py --pred {workspace}/p.csv --labels {private}/l.csv
metric: {name: accuracy, goal: maximize}
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"unknown key", minimal + "seeds: 3\n", []string{FileName, `unknown key "seeds" (line 7)`}},
		{"unknown nested key", strings.Replace(minimal, "goal: maximize}", "goal: maximize, direction: up}", 1), []string{`unknown key "metric.direction"`}},
		{"bad goal", strings.Replace(minimal, "maximize", "maximise", 1), []string{`metric.goal "maximise": want maximize or minimize`}},
		{"missing goal", strings.Replace(minimal, ", goal: maximize", "", 1), []string{"metric.goal: missing"}},
		{"missing workspace", strings.Replace(minimal, "workspace: workspace", "workspace: code", 1), []string{"workspace:", "code is not a directory"}},
		{"missing data", minimal + "data: {semrel: ../../shared/data/semrel-eng}\n", []string{"data.semrel:", "semrel-eng does not exist", "../shared"}},
		{"missing run", strings.Replace(minimal, "run: python3 train.py\n", "", 1), []string{"run: missing"}},
		{"private in run", strings.Replace(minimal, "run: python3 train.py", "run: python3 train.py --labels {private}/l.csv", 1), []string{"run: {private} is not visible to experiments"}},
		{"unknown placeholder", strings.Replace(minimal, "{private}/l.csv", "{labels}", 1), []string{"evaluate: unknown placeholder {labels}"}},
		{"undefined data", strings.Replace(minimal, "{private}/l.csv", "{data.x}/l.csv", 1), []string{"evaluate: {data.x} names no entry of data:"}},
		{"bad memory", minimal + "limits: {memory: 4gigs}\n", []string{`limits.memory "4gigs": want a size such as 4GiB`}},
		{"bad disk", minimal + "limits: {disk: -1GiB}\n", []string{`limits.disk "-1GiB": want a size such as 4GiB`}},
		{"bad timeout", minimal + "limits: {run_timeout: ten}\n", []string{`limits.run_timeout "ten"`}},
		{"protected outside", minimal + "protected: [../x]\n", []string{`protected: "../x": leaves the workspace`}},
		{"hide relative", minimal + "hide: [data]\n", []string{`hide: "data": want an absolute host path`}},
		{"seed in env", minimal + "env: {MLRC_SEED: '3'}\n", []string{"env.MLRC_SEED: set by mlrc"}},
		{"bad reference", minimal + "reference: first\n", []string{`reference "first": want prototype`, "first-run"}},
		{"two problems", strings.Replace(strings.Replace(minimal, "maximize", "up", 1), "problem: Predict things.\n", "", 1), []string{"problem: missing", `metric.goal "up"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeTask(t, tt.yaml))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingDataIsTyped(t *testing.T) {
	_, err := Load(writeTask(t, minimal+"data: {d: /nonexistent/mlrc-data}\n"))
	var md *MissingDataError
	if !errors.As(err, &md) {
		t.Fatalf("error %v is not a *MissingDataError", err)
	}
	if got, want := md.Name, "d"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestLoadResolves(t *testing.T) {
	dir := writeTask(t, minimal+`data: {here: workspace}
protected: [data/, ./model/weights.bin, data]
hide: [/usr/share/datasets/fashion-mnist/]
env: {TOKENIZERS_PARALLELISM: "false"}
limits: {run_timeout: 90s, memory: 512MiB, disk: 2GiB, max_steps: 5}
`)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tk.Data["here"], filepath.Join(dir, "workspace"); got != want {
		t.Errorf("Data[here] = %q, want %q", got, want)
	}
	if got, want := strings.Join(tk.Protected, ","), "data,model/weights.bin"; got != want {
		t.Errorf("Protected = %q, want %q", got, want)
	}
	if got, want := tk.Hide[0], "/usr/share/datasets/fashion-mnist"; got != want {
		t.Errorf("Hide[0] = %q, want %q", got, want)
	}
	if got, want := tk.Limits.RunTimeout, 90*time.Second; got != want {
		t.Errorf("RunTimeout = %v, want %v", got, want)
	}
	if got, want := tk.Limits.Memory, int64(512<<20); got != want {
		t.Errorf("Memory = %d, want %d", got, want)
	}
	if got, want := tk.Limits.Disk, int64(2<<30); got != want {
		t.Errorf("Disk = %d, want %d", got, want)
	}
	if got, want := tk.Limits.EvalTimeout, DefaultLimits.EvalTimeout; got != want {
		t.Errorf("EvalTimeout = %v, want the default %v", got, want)
	}
	if got, want := tk.Limits.MaxSteps, 5; got != want {
		t.Errorf("MaxSteps = %d, want %d", got, want)
	}
	// Loading the file itself works too.
	if _, err := Load(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("Load(task.yaml): %v", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"4GiB", 4 << 30}, {"512MiB", 512 << 20}, {"2G", 2 << 30}, {"1GB", 1e9}, {"1048576", 1 << 20}, {"1.5GiB", 3 << 29},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"4 gigs", "GiB", "-1MiB", ""} {
		if _, err := ParseSize(bad); err == nil && bad != "" {
			t.Errorf("ParseSize(%q) succeeded, want an error", bad)
		}
	}
}

func TestExpand(t *testing.T) {
	tk := &Task{Dir: "/tasks/toy", Data: map[string]string{"semrel": "/data/sem rel"}}
	l := Layout{Workspace: "/runs/1/workspace", Private: "/runs/1/private"}
	opt := Options{Python: "/opt/py thon/bin/python3", Seed: 7}
	tests := []struct{ in, want string }{
		{"python3 train.py --seed {seed}", "'/opt/py thon/bin/python3' train.py --seed 7"},
		{"python train.py", "'/opt/py thon/bin/python3' train.py"},
		{"pythonic.sh", "pythonic.sh"},
		{"{python} {task}/eval/eval.py --data {data.semrel} --pred {workspace}/p.csv --labels {private}/l.csv",
			"'/opt/py thon/bin/python3' /tasks/toy/eval/eval.py --data '/data/sem rel' --pred /runs/1/workspace/p.csv --labels /runs/1/private/l.csv"},
		{`echo ${HOME} '{"a": 1}' {}`, `echo ${HOME} '{"a": 1}' {}`},
	}
	for _, tt := range tests {
		if got := tk.Expand(tt.in, l, opt); got != tt.want {
			t.Errorf("Expand(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if got, want := tk.Expand("python3 x.py", l, Options{}), DefaultPython+" x.py"; got != want {
		t.Errorf("default python: got %q, want %q", got, want)
	}
}

func TestRunSpecIsolation(t *testing.T) {
	dir := writeTask(t, minimal+"protected: [data/]\nhide: [/usr/share, /etc/passwd, /nonexistent/x]\ndata: {d: workspace}\nenv: {FOO: bar, OMP_NUM_THREADS: '2'}\n")
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	l := Layout{Workspace: filepath.Join(run, "workspace"), Private: filepath.Join(run, "private")}
	if err := os.MkdirAll(filepath.Join(l.Workspace, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	spec, err := tk.commandSpec(tk.Commands.Run, l, Options{Seed: 3}, hideCover{dir: empty, file: empty + "/f"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := spec.Dir, l.Workspace; got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	writable := 0
	targets := map[string]string{}
	for _, m := range spec.Mounts {
		if m.Writable {
			writable++
			if m.Source != l.Workspace {
				t.Errorf("writable mount %s, want only the workspace", m.Source)
			}
			continue
		}
		if m.Target == "" {
			t.Errorf("read-only mount %s shows host files to the experiment", m.Source)
		}
		targets[m.Target] = m.Source
	}
	if writable != 1 {
		t.Errorf("%d writable mounts, want 1 (the workspace)", writable)
	}
	for _, hidden := range []string{"/usr/share", tk.Dir} {
		if targets[hidden] != empty {
			t.Errorf("%s is not covered by the empty directory (mounts %+v)", hidden, spec.Mounts)
		}
	}
	if got, want := targets["/etc/passwd"], empty+"/f"; got != want {
		t.Errorf("hidden file /etc/passwd covered by %q, want the empty file %q", got, want)
	}
	if _, ok := targets["/nonexistent/x"]; ok {
		t.Errorf("a hide path that does not exist is mounted over")
	}
	if got, want := strings.Join(spec.ReadOnly, ","), filepath.Join(l.Workspace, "data"); got != want {
		t.Errorf("ReadOnly = %q, want %q", got, want)
	}
	for k, want := range map[string]string{"MLRC_SEED": "3", "OMP_NUM_THREADS": "2", "FOO": "bar"} {
		if got := spec.Env[k]; got != want {
			t.Errorf("Env[%s] = %q, want %q", k, got, want)
		}
	}
	for k := range spec.Env {
		if strings.Contains(k, "KEY") || k == "PATH" {
			t.Errorf("Env has %s, want a scrubbed environment", k)
		}
	}

	// An agent's own command cannot name the private directory.
	own, err := tk.commandSpec("cat {private}/l.csv {workspace}/x", l, Options{}, hideCover{dir: empty, file: empty + "/f"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := own.Command[2], "cat {private}/l.csv "+l.Workspace+"/x"; got != want {
		t.Errorf("agent command expanded to %q, want %q", got, want)
	}

	ev := tk.evaluateSpec(l, Options{})
	for _, m := range ev.Mounts {
		if m.Writable {
			t.Errorf("evaluator mount %s is writable, want everything read-only", m.Source)
		}
	}
	pr := tk.prepareSpec(l, Options{})
	var rw []string
	for _, m := range pr.Mounts {
		if m.Writable {
			rw = append(rw, m.Source)
		}
	}
	if got, want := strings.Join(rw, ","), l.Workspace+","+l.Private; got != want {
		t.Errorf("prepare's writable mounts = %q, want %q", got, want)
	}
}

func TestHashChangesWithWorkspace(t *testing.T) {
	dir := writeTask(t, minimal)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := tk.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := tk.Hash(); h2 != h1 {
		t.Fatalf("Hash is not stable: %s, then %s", h1, h2)
	}
	// Caches do not count.
	if err := os.MkdirAll(filepath.Join(dir, "workspace", "__pycache__"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace", "__pycache__", "x.pyc"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, _ := tk.Hash(); h != h1 {
		t.Errorf("a __pycache__ file changed the hash")
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace", "train.py"), []byte("print('bye')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h3, err := tk.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if h3 == h1 {
		t.Errorf("Hash did not change when workspace/train.py changed")
	}
}

// needPython skips the test unless the configured interpreter has the
// packages the example tasks import.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	script := "import " + strings.Join(append([]string{"numpy", "pandas"}, modules...), ", ")
	if out, err := exec.Command(DefaultPython, "-c", script).CombinedOutput(); err != nil {
		t.Skipf("%s cannot %q (%v: %s): install the Debian packages python3-numpy, python3-pandas, python3-sklearn, python3-scipy, python3-torch", DefaultPython, script, err, strings.TrimSpace(string(out)))
	}
}

func TestSeedAndPlaceholdersReachTheExperiment(t *testing.T) {
	dir := writeTask(t, strings.Replace(minimal, "run: python3 train.py", `run: echo "$MLRC_SEED {seed} $OMP_NUM_THREADS" > seed.txt`, 1))
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	l := Layout{Workspace: filepath.Join(run, "w"), Private: filepath.Join(run, "p")}
	ctx := context.Background()
	if _, err := tk.Setup(ctx, runner(t), l, Options{Seed: 42}); err != nil {
		t.Fatal(err)
	}
	res, err := tk.Run(ctx, runner(t), l, Options{Seed: 42})
	if err != nil || !res.OK() {
		t.Fatalf("Run: %v %+v", err, res)
	}
	b, err := os.ReadFile(filepath.Join(l.Workspace, "seed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(b)), "42 42 1"; got != want {
		t.Errorf("seed.txt = %q, want %q", got, want)
	}
	if _, err := tk.Setup(ctx, runner(t), l, Options{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Setup into a used workspace: err = %v, want one saying it is not empty", err)
	}
}

func TestEvaluateOutputs(t *testing.T) {
	tests := []struct {
		name, script string
		want         string // substring of the error; empty: success
		value        float64
	}{
		{"ok", `print("epoch 1"); print('{"accuracy": 0.9, "n": 3}')`, "", 0.9},
		{"not json", `print("accuracy 0.9")`, "last output line is not a JSON object: accuracy 0.9", 0},
		{"no metric", `print('{"acc": 0.9}')`, `has no "accuracy": got {"acc":0.9}`, 0},
		{"nan", `print('{"accuracy": NaN}')`, "not a finite number", 0},
		{"string", `print('{"accuracy": "high"}')`, `"accuracy" is high, not a finite number`, 0},
		{"fails", `import sys; print("predictions rejected: 3 rows, want 4", file=sys.stderr); sys.exit(1)`, "evaluate: the evaluator exited with code 1\nstderr (last lines):\n  predictions rejected: 3 rows, want 4", 0},
		{"silent", `pass`, "printed nothing", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTask(t, strings.Replace(minimal, "evaluate: python3 {task}/eval.py --pred {workspace}/p.csv --labels {private}/l.csv", "evaluate: python3 {task}/eval.py", 1))
			if err := os.WriteFile(filepath.Join(dir, "eval.py"), []byte(tt.script+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tk, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			run := t.TempDir()
			l := Layout{Workspace: filepath.Join(run, "w"), Private: filepath.Join(run, "p")}
			if _, err := tk.Setup(context.Background(), runner(t), l, Options{}); err != nil {
				t.Fatal(err)
			}
			s, err := tk.Evaluate(context.Background(), runner(t), l, Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Value != tt.value || s.Metric != "accuracy" || s.Goal != Maximize || s.Raw["n"] != 3.0 {
					t.Errorf("score = %+v, want accuracy %v", s, tt.value)
				}
				return
			}
			var se *StepError
			if !errors.As(err, &se) || se.Step != "evaluate" {
				t.Fatalf("err = %v, want a *StepError of evaluate", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func TestBetter(t *testing.T) {
	max := &Task{Metric: Metric{Goal: Maximize}}
	min := &Task{Metric: Metric{Goal: Minimize}}
	if !max.Better(0.9, 0.8) || max.Better(0.8, 0.9) || max.Better(0.8, 0.8) {
		t.Error("maximize: want 0.9 better than 0.8 and not the other way")
	}
	if !min.Better(100, 200) || min.Better(200, 100) {
		t.Error("minimize: want 100 better than 200")
	}
}

// An experiment cannot hand the evaluator a link to the held-out labels.
func TestEvaluateRefusesEscapingLinks(t *testing.T) {
	ws := t.TempDir()
	private := t.TempDir()
	os.WriteFile(filepath.Join(private, "labels.csv"), []byte("id,label\n1,3\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "inside.csv"), []byte("x"), 0o644)
	os.Symlink("inside.csv", filepath.Join(ws, "ok-link.csv"))
	if err := escapingLinks(ws); err != nil {
		t.Fatalf("a link inside the workspace was refused: %v", err)
	}
	os.Symlink(filepath.Join(private, "labels.csv"), filepath.Join(ws, "predictions.csv"))
	err := escapingLinks(ws)
	if err == nil || !strings.Contains(err.Error(), "predictions.csv is a symbolic link leading outside") {
		t.Fatalf("err = %v", err)
	}
}

// TestOutputsRemovedBeforeRun: the predictions evaluate names are the
// default outputs, and a stale one is gone before an experiment runs, so a
// run that writes none is not scored on it.
func TestOutputsRemovedBeforeRun(t *testing.T) {
	tk, err := Load(writeTask(t, strings.Replace(minimal, "{workspace}/p.csv", "{workspace}/out/predictions.csv", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tk.Outputs, ","), "out/predictions.csv"; got != want {
		t.Fatalf("outputs %q, want %q (from evaluate)", got, want)
	}
	l := Layout{Workspace: t.TempDir(), Private: t.TempDir()}
	os.MkdirAll(filepath.Join(l.Workspace, "out"), 0o755)
	stale := filepath.Join(l.Workspace, "out", "predictions.csv")
	os.WriteFile(stale, []byte("id,label\n"), 0o644)
	if err := tk.RemoveOutputs(l); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale predictions survived")
	}
	if _, err := Load(writeTask(t, minimal+"outputs: [../x]\n")); err == nil || !strings.Contains(err.Error(), "outputs") {
		t.Errorf("outputs leaving the workspace: err = %v", err)
	}
}

func TestLoadReference(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{minimal, ReferencePrototype},
		{minimal + "reference: first-run\n", ReferenceFirstRun},
	} {
		tk, err := Load(writeTask(t, tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if tk.Reference != tt.want {
			t.Errorf("reference %q, want %q", tk.Reference, tt.want)
		}
	}
}
