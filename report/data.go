package report

import "time"

// Data is everything a report shows. The zero value of any part means it
// is missing, and the report says so.
type Data struct {
	RunID, Title string
	// Rehearsal, when set, says the model was a script (e.g.
	// "scripted/examples/rehearsal/digits.yaml"): the header and the
	// verdict say it was a rehearsal.
	Rehearsal         string
	Started, Finished time.Time
	Wall              time.Duration

	// Papers are the papers the run started from.
	Papers   []Paper
	Elements Elements

	// Chosen is the idea the experiment tested; its zero value means no
	// idea phase. Alternatives are the other candidates, best first.
	Chosen       Idea
	Alternatives []Idea
	// Choice says how the ideas were ranked and why the chosen one won.
	Choice Choice
	// Trials are the ideas tried, each in its own experiment, when a run
	// tried several (--n-experiments); empty otherwise.
	Trials []Trial

	// Plan is the research plan text.
	Plan string

	Task Task
	// Baseline is the prototype's metric in the experiment (its baseline
	// step), drawn as a horizontal line in the metric plot; nil when
	// unknown, and then the validation's baseline mean is drawn instead.
	Baseline *float64
	// Reference, when set, says that Baseline (and the validation's
	// baseline arm) is not the untouched prototype's but a reference run's,
	// e.g. "first working run (run 1)": the prototype is a template that
	// gives no metric. Every place that shows the baseline says so.
	Reference string
	// Steps are the experiment's runs in order, one per agent step that
	// ran the experiment.
	Steps []StepPoint
	// Diff is the code diff of the best solution against the prototype,
	// as unified diff text, without the Generated files.
	Diff string
	// Generated are the files the best solution's run left that are
	// outputs or data, not code: listed with their sizes, not diffed.
	Generated []Generated
	// Kept says which run's code was validated and why; nil when unknown.
	Kept *Kept
	// Logs are the experiments' output files, in run order.
	Logs []RunLogs

	// Validation is nil when the result was not validated.
	Validation *Validation

	// Placements are where the experiment's runs and the validation's
	// re-runs ran (executor, host, job, GPUs), with their wall time and
	// resources; empty when not recorded.
	Placements []Placement

	Costs []PhaseCost
	// Feedback is the human feedback given, in order.
	Feedback []string
	Manifest Manifest

	// Stopped is set when the run ended before its report phase: which
	// phase stopped, why, and how to go on. The parts the run did not
	// reach are missing, and the report says so.
	Stopped *Stopped
	// Warnings name what went wrong without ending the run (a model
	// answer that broke a rule and was repaired, a failed search), in
	// order.
	Warnings []Warning
}

// Generated is a file left out of the diff.
type Generated struct {
	Path  string
	Bytes int64 // -1 when the run deleted it
	Why   string
}

// Kept is the run whose code was kept, and the reason.
type Kept struct {
	Run    int
	Reason string
}

// RunLogs are one experiment run's output files, relative to the report's
// directory (the run directory): "logs/run-3-stdout.txt".
type RunLogs struct {
	Name           string // "baseline", "run 3"
	Stdout, Stderr string // "" when the stream was empty
}

// Stopped says how a run ended early.
type Stopped struct {
	// Phase is where it stopped: "idea", "experiment", "validation", …
	Phase string
	// Status is "stopped" (a budget, an interrupt) or "failed".
	Status string
	// Reason is the error, as the run recorded it.
	Reason string
	// Resume is what to do to go on, e.g. "mlrc resume RUN".
	Resume string
}

// Warning is one thing that went wrong without ending the run.
type Warning struct {
	Phase, Message string
}

// Paper is a paper the run read.
type Paper struct {
	ID, Source, Title string
}

// Elements are the research elements extracted from the papers.
type Elements struct {
	Tasks, Gaps, Keywords []string
}

// Idea is a candidate research idea with its review.
type Idea struct {
	ID         string
	Rank       int
	Title      string
	Hypothesis string
	Method     string
	Score      float64
	// Novelty is the novelty check's score; NaN when it was not checked.
	Novelty float64
	// Scores are the reviewer's scores, criterion → 1..5.
	Scores   map[string]int
	BuildsOn []Ref
	// NoveltyCheck is the model's check against the literature; nil when
	// the idea has none (then Novelty is shown).
	NoveltyCheck *NoveltyCheck
	// Forecast is the reviewer's forecast of gain, risk and cost; nil
	// when there is none. Guarded says the idea passed the ranking's
	// guard (validity and feasibility high enough).
	Forecast *Forecast
	Guarded  bool
}

// NoveltyCheck is how an idea's novelty was checked: the decision (novel,
// incremental, known or unchecked) and its reason, the closest works, and
// the searches of each round with what they found.
type NoveltyCheck struct {
	Decision, Reason string
	Closest          []NoveltyWork
	Rounds           []NoveltyRound
}

// NoveltyWork is a prior work close to an idea and how it relates.
type NoveltyWork struct {
	Ref
	How string
}

// NoveltyRound is one round of searches of a novelty check.
type NoveltyRound struct {
	Queries []string
	Hits    []Ref
}

// Ref is a work an idea builds on.
type Ref struct {
	ID, Source, Title string
}

// Task is the experiment's task.
type Task struct {
	Name   string
	Metric string
	// Goal is "maximize" or "minimize".
	Goal string
	Hash string
}

// StepPoint is one run of the experiment.
type StepPoint struct {
	Step int
	// Metric is the run's metric; nil when the run failed.
	Metric *float64
	// Best is the best metric so far, after this step; nil before the
	// first successful run.
	Best   *float64
	Action string
}

// Validation is the re-run of the baseline and the best solution over
// seeds, and the verdict.
type Validation struct {
	Seeds []int
	// Baseline and Best are the metric per seed, in the order of Seeds;
	// NaN for a failed re-run.
	Baseline, Best []float64

	BaselineMean, BaselineSD float64
	BaselineCI               [2]float64
	BestMean, BestSD         float64
	BestCI                   [2]float64

	// Test names the test that decides significance; Diff is the
	// difference of means, P the deciding two-sided p-value, EffectSize
	// Hedges' g (nil: undefined); Note says why a value is undefined.
	Test       string
	Diff       float64
	P          float64
	EffectSize *float64
	Note       string
	// PValues are every p-value the verdict computed, by test, in order
	// (Welch's t-test, the permutation test over the seeds, the paired
	// bootstrap over the held-out examples); nil is "not computable".
	PValues []PValue

	// Improvement is the improvement of the means oriented by the goal;
	// Relative is it over what RelativeTo says (0.1 is 10%); nil when
	// undefined.
	Improvement float64
	Relative    *float64
	RelativeTo  string

	Checks []Check

	Success bool
	Summary string
	// Criterion says what counted as a success, as a phrase.
	Criterion string
}

// PValue is one test's p-value; P nil means the test could not be done,
// and Note says why.
type PValue struct {
	Test string
	P    *float64
	Note string
}

// Check is an integrity check of the validation.
type Check struct {
	Name   string
	Passed bool
	Detail string
}

// PhaseCost is what a phase spent.
type PhaseCost struct {
	Phase                     string
	InputTokens, OutputTokens int64
	USD                       float64
	// UnknownPrice counts the calls whose price was unknown; USD leaves
	// them out.
	UnknownPrice int
	Wall         time.Duration
}

// Manifest is what it takes to reproduce the run.
type Manifest struct {
	MlrcVersion, Commit string
	Models              []string
	Seeds               []int
	TaskHash            string
	Python              string
	// Packages are the Python packages installed, name → version.
	Packages  map[string]string
	Sandbox   string
	Command   string
	GoVersion string
	OS        string
}
