package task

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The scripts of a task made by New.
var (
	//go:embed newtask/prepare.py
	newPrepare []byte
	//go:embed newtask/eval.py
	newEval []byte
	//go:embed newtask/train.py
	newTrain []byte
)

// NewMetrics are the metrics a task made by New can optimise, with the
// kind of problem each implies.
var NewMetrics = map[string]string{
	"accuracy": "classification", "f1": "classification", "auc": "classification", "log_loss": "classification",
	"rmse": "regression", "mae": "regression", "r2": "regression",
}

// NewOptions describe a task made from one CSV file.
type NewOptions struct {
	CSV    string // the data, one row per example, with a header
	Target string // the column to predict
	Metric string // one of NewMetrics
	ID     string // an id column; empty means row numbers
	Text   string // a free-text column, for TF-IDF in the baseline
	// TestSize is the held-out fraction; 0 means 0.2.
	TestSize float64
	// Out is the task directory to write; it must not exist or be empty.
	Out  string
	Name string // empty means Out's name
}

// New writes a complete task for a CSV file: a prepare step that splits it
// with a fixed seed (train.csv and test.csv for the agent, the test labels
// held out), an evaluator with the standard metrics, a baseline train.py
// and a README. The CSV's header is checked first.
func New(opt NewOptions) (*Task, error) {
	kind, ok := NewMetrics[opt.Metric]
	if !ok {
		return nil, fmt.Errorf("--metric %q: want one of accuracy, f1, auc, log_loss (classification) or rmse, mae, r2 (regression)", opt.Metric)
	}
	if opt.TestSize == 0 {
		opt.TestSize = 0.2
	}
	if opt.TestSize <= 0 || opt.TestSize >= 1 {
		return nil, fmt.Errorf("--test-size %v: want a fraction between 0 and 1, e.g. 0.2", opt.TestSize)
	}
	csvPath, err := filepath.Abs(opt.CSV)
	if err != nil {
		return nil, err
	}
	header, err := csvHeader(csvPath)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct{ flag, col string }{{"--target", opt.Target}, {"--id", opt.ID}, {"--text", opt.Text}} {
		if c.col == "" {
			if c.flag == "--target" {
				return nil, errors.New("--target: name the column to predict")
			}
			continue
		}
		if !contains(header, c.col) {
			return nil, fmt.Errorf("%s %q: %s has no such column; its columns are %s", c.flag, c.col, csvPath, strings.Join(header, ", "))
		}
	}
	if opt.ID != "" && opt.ID == opt.Target {
		return nil, errors.New("--id and --target name the same column")
	}
	out, err := filepath.Abs(opt.Out)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty: choose a new directory with --out", out)
	}
	if opt.Name == "" {
		opt.Name = nameRE.FindString(filepath.Base(out))
		if opt.Name == "" {
			opt.Name = "task"
		}
	}
	id := opt.ID
	if id == "" {
		id = "row_id"
	}
	goal := GoalOf(opt.Metric)
	f := file{
		Name: opt.Name,
		Problem: fmt.Sprintf("Predict %q for each row of test.csv (a %s problem); train.csv holds the training rows with their %q. "+
			"Write predictions.csv with the columns %s and prediction%s. The score is %s (%s).",
			opt.Target, kind, opt.Target, id, map[string]string{"classification": ", plus p_<class> with each class's probability", "regression": ""}[kind], opt.Metric, goal),
		Workspace: "workspace",
		Data:      map[string]string{"table": csvPath},
		Prepare: fmt.Sprintf("python3 {task}/prepare.py --csv {data.table} --target %s --id %s --test-size %s --workspace {workspace} --private {private}",
			shellQuote(opt.Target), shellQuote(opt.ID), strconv.FormatFloat(opt.TestSize, 'g', -1, 64)),
		Run: "python3 train.py",
		Evaluate: fmt.Sprintf("python3 {task}/eval.py --pred {workspace}/predictions.csv --labels {private}/labels.csv --id %s --target %s --kind %s",
			shellQuote(id), shellQuote(opt.Target), kind),
		Metric:    fileMetric{Name: opt.Metric, Goal: string(goal)},
		Protected: []string{"train.csv", "test.csv"},
		Outputs:   []string{"predictions.csv"},
	}
	train := strings.NewReplacer("{{ID}}", id, "{{TARGET}}", opt.Target, "{{TEXT}}", opt.Text, "{{KIND}}", kind).Replace(string(newTrain))
	readme := fmt.Sprintf("# %s\n\nMade by `mlrc task new` from %s.\n\n"+
		"- `prepare.py` splits the CSV with a fixed seed: %g of the rows are held out; the agent gets `train.csv` and `test.csv` (without %q), the test labels go to the run's private directory.\n"+
		"- `workspace/train.py` is the baseline: a linear model on the numeric and categorical columns%s.\n"+
		"- `eval.py` prints accuracy, f1, auc and log_loss (classification) or rmse, mae and r2 (regression); mlrc optimises %s (%s).\n\n"+
		"Check it with `mlrc task check %s`.\n", opt.Name, csvPath, opt.TestSize, opt.Target,
		map[bool]string{true: " and TF-IDF of " + opt.Text, false: ""}[opt.Text != ""], opt.Metric, goal, out)

	var y bytes.Buffer
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, err
	}
	for _, w := range []struct {
		path string
		data []byte
	}{
		{"workspace/train.py", []byte(train)},
		{"prepare.py", newPrepare},
		{"eval.py", newEval},
		{"README.md", []byte(readme)},
		{FileName, append([]byte("# Made by `mlrc task new`; see README.md.\n"), y.Bytes()...)},
	} {
		p := filepath.Join(out, filepath.FromSlash(w.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, w.data, 0o644); err != nil {
			return nil, err
		}
	}
	t, err := Load(out)
	if err != nil {
		return nil, fmt.Errorf("the new task does not load: %w", err)
	}
	return t, nil
}

func csvHeader(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("--csv: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	h, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("--csv %s: cannot read its header: %w", p, err)
	}
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("--csv %s: no data rows after the header", p)
	}
	for i := range h {
		h[i] = strings.TrimPrefix(h[i], "\ufeff")
	}
	return h, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
