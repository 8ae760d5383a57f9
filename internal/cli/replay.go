package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/replay"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

func (a *app) replayCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "replay RUN",
		Short: "Re-execute a recorded run's experiments with its recorded model answers and compare the metrics",
		Long: `Re-execute the experiment phase of a recorded experiment or research run in a new run: the same
task, plan and seed, the model's answers taken from the recording in order (no model is called), every
experiment run again in the sandbox. Then compare, metric by metric, the recording with the re-execution.
Exits non-zero when a metric does not reproduce.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runReplay(cmd.Context(), args[0])
		},
	}
}

func (a *app) runReplay(ctx context.Context, ref string) (err error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	orig, err := st.Run(ctx, ref)
	if err != nil {
		return usageError("%w (list runs with `mlrc runs`)", err)
	}
	info, err := orig.Info(ctx)
	if err != nil {
		return err
	}
	p, err := experimentOf(info)
	if err != nil {
		return err
	}
	if p.Search == "tree" {
		return usageError("run %s used tree search, whose parallel nodes answer in no fixed order: replay re-executes linear runs", info.ID)
	}
	recorded, err := experiment.Read(ctx, orig)
	if err != nil {
		return err
	}
	calls, err := experimentCalls(ctx, orig)
	if err != nil {
		return err
	}
	t, err := task.Load(p.Task)
	if err != nil {
		return usageError("%w", err)
	}
	runner, isolation, err := a.runner()
	if err != nil {
		return err
	}
	rp := *p
	rp.Model = "replay/" + info.ID
	rp.Human = false
	s, err := a.startRunConfig(ctx, st, "replay", rp.Model, research.Config{Settings: a.cfg, Experiment: &rp, ReplayOf: info.ID})
	if err != nil {
		return err
	}
	defer s.close()
	defer func() { a.finishRun(s, err) }()
	seq := replay.NewSequential(calls)
	meter := a.meter()
	model := a.dress(rp.Model, seq, meter, s.run)
	fmt.Fprintf(a.env.Stdout, "replaying run %s (%d recorded model answers) as run %s\n", info.ID, len(calls), s.run.ID)
	lab := labSetup{task: t, runner: runner, isolation: isolation, backend: seq, meter: meter, model: model}
	lr := &labRun{st: st, s: s, lab: lab}
	rr := a.researchRun(lr, rp.Model)
	defer lr.unfollow()
	if _, err := rr.Experiment(ctx, &rp); err != nil {
		return err
	}
	again, err := experiment.Read(ctx, s.run)
	if err != nil {
		return err
	}
	same := compareRecords(a, recorded, again)
	s.run.Emit(ctx, "replay", map[string]any{"of": info.ID, "reproduced": same, "drift": seq.Drift(), "unused": seq.Remaining()})
	fmt.Fprintf(a.env.Stdout, "%d answers replayed, %d of them to a request that differed from the recording; %d unused\n",
		len(calls)-seq.Remaining(), seq.Drift(), seq.Remaining())
	if !same {
		return &exitError{code: 1, err: fmt.Errorf("run %s did not reproduce: see the table above", info.ID)}
	}
	fmt.Fprintf(a.env.Stdout, "every metric reproduced\n")
	return nil
}

// experimentOf returns the experiment settings of a recorded run: an
// experiment run's own, or a research run's with the chosen idea as plan.
func experimentOf(info store.RunInfo) (*research.ExperimentParams, error) {
	var rc research.Config
	if err := json.Unmarshal(info.Config, &rc); err != nil {
		return nil, fmt.Errorf("run %s: read its config: %w", info.ID, err)
	}
	switch {
	case rc.Experiment != nil:
		return rc.Experiment, nil
	case rc.Research != nil:
		res, err := idea.Read(info.Dir + "/ideas.json")
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", info.ID, err)
		}
		p := rc.Research.Experiment()
		p.Plan = idea.PlanText(res.Ideas[0])
		return p, nil
	}
	return nil, usageError("run %s (%s) has no experiment to replay", info.ID, info.Kind)
}

// experimentCalls are the run's successful model calls of the experiment
// phase, in order.
func experimentCalls(ctx context.Context, run *store.Run) ([]llm.Call, error) {
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	inPhase := map[int64]bool{}
	for _, s := range steps {
		if s.Phase == experiment.Phase && s.Status == store.StatusDone {
			inPhase[s.Seq] = true
		}
	}
	calls, err := run.Calls(ctx)
	if err != nil {
		return nil, err
	}
	var out []llm.Call
	for _, c := range calls {
		if inPhase[c.Step] && c.Response != nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// compareRecords prints the recorded and replayed metrics side by side and
// reports whether all reproduce.
func compareRecords(a *app, want, got *experiment.Record) bool {
	w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nRUN\tRECORDED\tREPLAYED\tREPRODUCED")
	same := true
	row := func(name string, a, b *experiment.RunRecord) {
		ok := sameMetric(a, b)
		same = same && ok
		mark := "yes"
		if !ok {
			mark = "NO"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, metricText(a), metricText(b), mark)
	}
	row("baseline", want.Baseline, got.Baseline)
	for i := range max(len(want.Runs), len(got.Runs)) {
		var a, b *experiment.RunRecord
		if i < len(want.Runs) {
			a = &want.Runs[i]
		}
		if i < len(got.Runs) {
			b = &got.Runs[i]
		}
		row(fmt.Sprintf("run %d", i+1), a, b)
	}
	w.Flush()
	return same
}

func metricText(r *experiment.RunRecord) string {
	switch {
	case r == nil:
		return "(none)"
	case r.Metric == nil:
		return "failed: " + research.ClipLine(r.Error, 40)
	}
	return fmt.Sprintf("%.6g", *r.Metric)
}

// sameMetric: both failed, or both measured the same value (to a relative
// 1e-9, the noise of printing floats).
func sameMetric(a, b *experiment.RunRecord) bool {
	switch {
	case a == nil || b == nil:
		return a == nil && b == nil
	case a.Metric == nil || b.Metric == nil:
		return a.Metric == nil && b.Metric == nil
	}
	x, y := *a.Metric, *b.Metric
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}
