package report

import (
	"math"
	"time"
)

func f(v float64) *float64 { return &v }

// example is a whole research run, with fixed times.
func example() *Data {
	start := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	steps := []StepPoint{
		{Step: 1, Metric: f(0.9611), Best: f(0.9611), Action: "run_experiment: baseline MLP, 2 hidden layers"},
		{Step: 2, Metric: f(0.9583), Best: f(0.9611), Action: "run_experiment: lower learning rate"},
		{Step: 3, Best: f(0.9611), Action: "run_experiment: add dropout (failed: shape mismatch)"},
		{Step: 4, Metric: f(0.9694), Best: f(0.9694), Action: "run_experiment: random-erasing augmentation"},
		{Step: 5, Metric: f(0.9722), Best: f(0.9722), Action: "run_experiment: erasing p=0.5, scale (0.02, 0.2)"},
		{Step: 6, Best: f(0.9722), Action: "run_experiment: CNN (failed: timeout)"},
		{Step: 7, Metric: f(0.9667), Best: f(0.9722), Action: "run_experiment: erasing + label smoothing"},
		{Step: 8, Metric: f(0.9778), Best: f(0.9778), Action: "run_experiment: erasing + wider hidden layer"},
		{Step: 9, Metric: f(0.975), Best: f(0.9778), Action: "run_experiment: erasing + weight decay 1e-4"},
		{Step: 10, Metric: f(0.9806), Best: f(0.9806), Action: "run_experiment: ensemble of 3 seeds"},
	}
	return &Data{
		RunID:    "20250314-092653-digits",
		Title:    "Random erasing for small-image classification",
		Started:  start,
		Finished: start.Add(47*time.Minute + 12*time.Second),
		Wall:     47*time.Minute + 12*time.Second,
		Papers: []Paper{
			{ID: "arXiv:1708.07747", Source: "arxiv", Title: "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms"},
		},
		Elements: Elements{
			Tasks:    []string{"image classification on small grey-scale images"},
			Gaps:     []string{"augmentation is rarely compared on tiny datasets", "benchmarks report single seeds"},
			Keywords: []string{"Fashion-MNIST", "data augmentation", "random erasing", "MLP"},
		},
		Chosen: Idea{
			ID: "idea-2", Rank: 1, Title: "Random erasing as a regulariser for an MLP on 8×8 digits",
			Hypothesis: "Randomly erasing patches of the training images improves held-out accuracy of a small MLP by at least 1 point.",
			Method:     "1. Add random erasing (p=0.5) to the training loader.\n2. Keep the model and the schedule fixed.\n3. Compare over three seeds.",
			Score:      4.3, Novelty: 0.62,
			Scores:   map[string]int{"clarity": 5, "feasibility": 5, "novelty": 3, "significance": 4},
			BuildsOn: []Ref{{ID: "arXiv:1708.04896", Source: "semanticscholar", Title: "Random Erasing Data Augmentation"}},
		},
		Alternatives: []Idea{
			{ID: "idea-1", Rank: 2, Title: "Mixup for tiny grey-scale images", Score: 3.9, Novelty: 0.55, Scores: map[string]int{"clarity": 4, "feasibility": 5, "novelty": 3, "significance": 3}},
			{ID: "idea-3", Rank: 3, Title: "Distilling a CNN into an MLP", Score: 3.1, Novelty: 0.71, Scores: map[string]int{"clarity": 3, "feasibility": 2, "novelty": 4}},
		},
		Plan:     "Goal: raise test accuracy of the digits MLP with random erasing.\n\n- Step 1: add the transform.\n- Step 2: tune p and the scale.\n- Step 3: validate over seeds 1, 2, 3.",
		Task:     Task{Name: "digits", Metric: "accuracy", Goal: "maximize", Hash: "sha256:3f1a9c0d"},
		Baseline: f(0.9611),
		Steps:    steps,
		Diff: `diff --git a/train.py b/train.py
--- a/train.py
+++ b/train.py
@@ -10,6 +10,9 @@ def load(seed):
     X, y = load_digits(return_X_y=True)
-    model = MLP(hidden=64)
+    X = erase(X, p=0.5, scale=(0.02, 0.2), seed=seed)
+    model = MLP(hidden=128)
     return model.fit(X, y)
`,
		Generated: []Generated{{Path: "predictions.csv", Bytes: 3789, Why: "the task's output, read by the evaluator"}, {Path: "cache/features.npy", Bytes: 643712, Why: "data file (.npy)"}},
		Kept:      &Kept{Run: 3, Reason: "run 3 (accuracy 0.9806), the best measured run, which the final answer named"},
		Logs:      []RunLogs{{Name: "baseline", Stdout: "logs/baseline-stdout.txt"}, {Name: "run 1", Stdout: "logs/run-1-stdout.txt", Stderr: "logs/run-1-stderr.txt"}},
		Validation: &Validation{
			Seeds:        []int{1, 2, 3},
			Baseline:     []float64{0.9611, 0.9583, 0.9639},
			Best:         []float64{0.9806, 0.9778, 0.9833},
			BaselineMean: 0.9611, BaselineSD: 0.0028, BaselineCI: [2]float64{0.9542, 0.9680},
			BestMean: 0.9806, BestSD: 0.0028, BestCI: [2]float64{0.9737, 0.9875},
			Test: "Welch's t-test", Diff: 0.0195, P: 0.0011, EffectSize: ptr(5.57),
			Improvement: 0.0195, Relative: ptr(0.0203),
			Checks: []Check{
				{Name: "task unchanged", Passed: true, Detail: "sha256:3f1a9c0d"},
				{Name: "protected files unchanged", Passed: true},
				{Name: "held-out labels never visible", Passed: true, Detail: "bubblewrap; private/ not mounted"},
				{Name: "metric reproduces", Passed: true, Detail: "0.9806 at seed 1"},
			},
			Success:   true,
			Summary:   "The best solution improves accuracy by 0.0195 (+2.0%) over the baseline across 3 seeds (Welch's t-test, p = 0.001).",
			Criterion: "improvement > 0, p < 0.05",
		},
		Costs: []PhaseCost{
			{Phase: "idea", InputTokens: 48210, OutputTokens: 9120, USD: 0.2135, Wall: 3*time.Minute + 20*time.Second},
			{Phase: "experiment", InputTokens: 312004, OutputTokens: 22870, USD: 1.1342, Wall: 38 * time.Minute},
			{Phase: "validation", Wall: 5*time.Minute + 52*time.Second},
		},
		Feedback: []string{"Prefer ideas that run on a CPU in minutes.", "Keep the MLP; do not switch to a CNN."},
		Manifest: Manifest{
			MlrcVersion: "v0.4.0", Commit: "1a2b3c4d",
			Models:    []string{"anthropic/claude-sonnet-4-5", "openai/gpt-4.1-mini"},
			Seeds:     []int{1, 2, 3},
			TaskHash:  "sha256:3f1a9c0d",
			Python:    "3.11.2",
			Packages:  map[string]string{"numpy": "1.26.4", "scikit-learn": "1.4.2", "scipy": "1.12.0"},
			Sandbox:   "bubblewrap 0.8.0 (no network)",
			Command:   "mlrc replay 20250314-092653-digits --task examples/tasks/digits --seeds 1,2,3",
			GoVersion: "go1.26.8", OS: "linux/amd64",
		},
	}
}

// failed is a run that did not succeed: a failed re-run, a failed check,
// unknown prices, no alternatives, no feedback.
func failed() *Data {
	d := example()
	d.Alternatives = nil
	d.Feedback = nil
	d.Baseline = nil
	v := d.Validation
	v.Best = []float64{0.9611, math.NaN(), 0.9583}
	v.BestMean, v.BestSD, v.BestCI = 0.9597, 0.002, [2]float64{0.9421, 0.9773}
	v.Diff, v.P, v.EffectSize, v.Improvement, v.Relative = -0.0014, 0.62, ptr(-0.41), -0.0014, ptr(-0.0015)
	v.Checks[3] = Check{Name: "every re-run succeeded", Detail: "best at seed 2: exit status 1"}
	v.Success = false
	v.Summary = "Not a success: the best solution is not better than the baseline (improvement -0.0014), and 1 re-run failed."
	d.Costs[1].UnknownPrice = 3
	return d
}

// empty is a run that stopped before anything.
func empty() *Data {
	return &Data{RunID: "20250314-000000-empty"}
}

// hostile has markup and script in every text a model or a paper writes.
func hostile() *Data {
	d := example()
	const x = `<script>alert(1)</script><img src="http://evil.example/x.png"> ![p](http://evil.example/p.png) [l](https://evil.example) | # h`
	d.Title = "T " + x
	d.Papers[0].Title = x
	d.Elements.Gaps = []string{x}
	d.Chosen.Title, d.Chosen.Hypothesis = x, x
	d.Alternatives[0].Title = x
	d.Plan = x + "\n# heading\n" + x
	d.Diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+<script>alert(1)</script> ```\n"
	d.Steps[0].Action = x
	d.Validation.Summary = x
	d.Validation.Checks[0].Detail = x
	d.Feedback = []string{x}
	d.Manifest.Command = "echo '</pre><script>alert(1)</script>'"
	d.Task.Metric = "acc<tspan>"
	d.Generated[0].Path, d.Generated[0].Why = x, x
	d.Kept.Reason = x
	d.Logs = append(d.Logs, RunLogs{Name: x, Stdout: "javascript:alert(1)", Stderr: "../../etc/passwd"}, RunLogs{Name: "run 9", Stdout: "https://evil.example/x"})
	return d
}

func ptr(v float64) *float64 { return &v }
