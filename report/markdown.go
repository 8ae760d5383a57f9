package report

import (
	"fmt"
	"strconv"
	"strings"
)

// The plots' paths in the report's directory, as report.md links them.
const (
	MetricPlotFile = "plots/metric.svg"
	SeedPlotFile   = "plots/seeds.svg"
)

// Markdown renders the report as Markdown. The plots are linked by
// relative path (MetricPlotFile, SeedPlotFile), as Write puts them; a plot
// with nothing to draw is not linked.
func Markdown(d *Data) string {
	v := newView(d)
	var b strings.Builder
	for _, section := range []func(*strings.Builder, *view){
		mdHeader, mdStopped, mdWarnings, mdPapers, mdElements, mdIdeas, mdPlan, mdExperiment,
		mdValidation, mdPlacements, mdDiff, mdCosts, mdFeedback, mdManifest,
	} {
		section(&b, v)
	}
	return b.String()
}

func title(d *Data) string {
	switch {
	case strings.TrimSpace(d.Title) != "":
		return d.Title
	case d.RunID != "":
		return "Research run " + d.RunID
	}
	return "Research run"
}

func mdHeader(b *strings.Builder, v *view) {
	fmt.Fprintf(b, "# %s\n\n", mdInline(title(v.Data)))
	fmt.Fprintf(b, "Run %s · started %s · finished %s · wall time %s\n\n",
		mdCode(v.RunID), timestamp(v.Started), timestamp(v.Finished), duration(v.Wall))
	fmt.Fprintf(b, "> **%s.** %s\n\n", v.Verdict.Heading, mdInline(v.Verdict.Summary))
}

func mdNotRun(b *strings.Builder, what string) {
	fmt.Fprintf(b, "_%s_\n\n", what)
}

func mdPapers(b *strings.Builder, v *view) {
	b.WriteString("## Papers\n\n")
	if len(v.Papers) == 0 {
		mdNotRun(b, "No papers.")
		return
	}
	var rows [][]string
	for _, p := range v.Papers {
		rows = append(rows, []string{mdCode(p.ID), mdInline(p.Source), mdInline(p.Title)})
	}
	mdTable(b, []string{"ID", "Source", "Title"}, "", rows)
}

func mdElements(b *strings.Builder, v *view) {
	b.WriteString("## Research elements\n\n")
	e := v.Elements
	if len(e.Tasks)+len(e.Gaps)+len(e.Keywords) == 0 {
		mdNotRun(b, "Not run: no research elements.")
		return
	}
	for _, l := range []struct {
		name  string
		items []string
	}{{"Tasks", e.Tasks}, {"Gaps", e.Gaps}} {
		fmt.Fprintf(b, "**%s**\n\n", l.name)
		if len(l.items) == 0 {
			b.WriteString("- " + dash + "\n")
		}
		for _, it := range l.items {
			b.WriteString("- " + mdInline(it) + "\n")
		}
		b.WriteString("\n")
	}
	kw := make([]string, len(e.Keywords))
	for i, k := range e.Keywords {
		kw[i] = mdInline(k)
	}
	fmt.Fprintf(b, "**Keywords:** %s\n\n", orDash(strings.Join(kw, ", ")))
}

func mdIdeas(b *strings.Builder, v *view) {
	b.WriteString("## Idea\n\n")
	if !hasIdea(v.Data) {
		mdNotRun(b, "Not run: no idea was chosen.")
		return
	}
	c := v.Chosen
	fmt.Fprintf(b, "### %s\n\n", mdInline(c.Title))
	fmt.Fprintf(b, "**Hypothesis**\n\n%s\n\n", mdText(orDash(c.Hypothesis)))
	fmt.Fprintf(b, "**Method**\n\n%s\n\n", mdText(orDash(c.Method)))
	fmt.Fprintf(b, "**Score** %s · **novelty** %s\n\n", num(c.Score), mdInline(ideaNovelty(c)))
	if len(c.BuildsOn) > 0 {
		b.WriteString("**Builds on**\n\n")
		for _, r := range c.BuildsOn {
			fmt.Fprintf(b, "- %s (%s %s)\n", mdInline(r.Title), mdInline(r.Source), mdCode(r.ID))
		}
		b.WriteString("\n")
	}
	mdNovelty(b, c.NoveltyCheck)
	header := append([]string{"", "Rank", "Idea", "Score", "Novelty"}, escapeAll(v.Criteria)...)
	rows := [][]string{ideaRow(v, c, "**chosen**")}
	for _, a := range v.Alternatives {
		rows = append(rows, ideaRow(v, a, ""))
	}
	mdTable(b, header, "lrlrr"+strings.Repeat("r", len(v.Criteria)), rows)
	if len(v.Alternatives) == 0 {
		mdNotRun(b, "No alternatives.")
	}
	mdChoice(b, v)
	mdTrials(b, v)
}

// mdNovelty renders the chosen idea's novelty check: decision, reason,
// closest works, and each round's searches and hits.
func mdNovelty(b *strings.Builder, n *NoveltyCheck) {
	if n == nil {
		return
	}
	fmt.Fprintf(b, "**Novelty check: %s.** %s\n\n", mdInline(n.Decision), mdText(orDash(n.Reason)))
	if len(n.Closest) > 0 {
		b.WriteString("Closest prior work:\n\n")
		for _, c := range n.Closest {
			fmt.Fprintf(b, "- %s (%s %s): %s\n", mdInline(c.Title), mdInline(c.Source), mdCode(c.ID), mdInline(c.How))
		}
		b.WriteString("\n")
	}
	for i, r := range n.Rounds {
		fmt.Fprintf(b, "Round %d searched %s: %d new work(s)", i+1, mdInline(strings.Join(r.Queries, "; ")), len(r.Hits))
		if len(r.Hits) == 0 {
			b.WriteString("\n\n")
			continue
		}
		b.WriteString("\n\n")
		for _, h := range r.Hits {
			fmt.Fprintf(b, "- %s (%s %s)\n", mdInline(h.Title), mdInline(h.Source), mdCode(h.ID))
		}
		b.WriteString("\n")
	}
}

func ideaRow(v *view, i Idea, mark string) []string {
	row := []string{mark, rank(i.Rank), mdInline(i.Title), num(i.Score), mdInline(ideaNovelty(i))}
	for _, c := range v.Criteria {
		row = append(row, scoreOf(i, c))
	}
	return row
}

func rank(r int) string {
	if r <= 0 {
		return dash
	}
	return strconv.Itoa(r)
}

func escapeAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = mdInline(x)
	}
	return out
}

func mdPlan(b *strings.Builder, v *view) {
	b.WriteString("## Plan\n\n")
	if strings.TrimSpace(v.Plan) == "" {
		mdNotRun(b, "Not run: no plan.")
		return
	}
	b.WriteString(mdPlanText(v.Plan) + "\n")
}

func mdExperiment(b *strings.Builder, v *view) {
	b.WriteString("## Experiment\n\n")
	t := v.Task
	fmt.Fprintf(b, "Task %s · metric %s · task hash %s\n\n", mdInline(t.Name), mdInline(v.Metric()), mdCode(t.Hash))
	if n := v.ReferenceNote(); n != "" {
		fmt.Fprintf(b, "**%s**\n\n", mdInline(n))
	}
	if len(v.Steps) == 0 {
		mdNotRun(b, "Not run: no experiment steps.")
		return
	}
	fmt.Fprintf(b, "![Metric per step](%s)\n\n", MetricPlotFile)
	fmt.Fprintf(b, "%s\n\n", v.Runs.Sentence())
	var rows [][]string
	for _, s := range v.Steps {
		rows = append(rows, []string{strconv.Itoa(s.Step), optNum(s.Metric, "failed"), optNum(s.Best, dash), mdInline(clip(s.Action, 100))})
	}
	mdTable(b, []string{"Step", "Metric", "Best so far", "Action"}, "rrr", rows)
	if len(v.Logs) > 0 {
		b.WriteString("**Output of each run**\n\n")
		for _, l := range v.Logs {
			fmt.Fprintf(b, "- %s: %s\n", mdInline(l.Name), mdLogLinks(l))
		}
		b.WriteString("\n")
	}
}

// mdLogLinks links a run's output files.
func mdLogLinks(l RunLogs) string {
	var links []string
	for _, f := range []struct{ name, path string }{{"stdout", l.Stdout}, {"stderr", l.Stderr}} {
		switch {
		case f.path == "":
		case localFile(f.path):
			links = append(links, fmt.Sprintf("[%s](%s)", f.name, f.path))
		default:
			links = append(links, f.name+" "+mdCode(f.path))
		}
	}
	if len(links) == 0 {
		return "no output"
	}
	return strings.Join(links, " · ")
}

// Sentence summarises the runs.
func (r runs) Sentence() string {
	s := fmt.Sprintf("%d runs, %d failed; best so far %s", r.N, r.Failed, r.Best)
	if r.Best != dash {
		s += fmt.Sprintf(" (step %d)", r.BestStep)
	}
	if r.Reference != "" {
		return s + "; reference = " + r.Reference + ", not a baseline: " + r.Baseline + "."
	}
	return s + "; baseline " + r.Baseline + "."
}

func mdValidation(b *strings.Builder, v *view) {
	b.WriteString("## Validation\n\n")
	val := v.Validation
	if val == nil {
		mdNotRun(b, "Not run: the result was not validated.")
		return
	}
	if n := v.ReferenceNote(); n != "" {
		fmt.Fprintf(b, "**%s**\n\n", mdInline(n))
	}
	var rows [][]string
	for _, s := range v.Seeds {
		rows = append(rows, []string{strconv.Itoa(s.Seed), s.Baseline, s.Best, s.Diff})
	}
	if len(rows) > 0 {
		mdTable(b, []string{"Seed", "Baseline", "Best", "Best − baseline"}, "rrrr", rows)
	}
	mdTable(b, []string{"", "Baseline", "Best"}, "lrr", [][]string{
		{"mean ± SD", meanSD(val.BaselineMean, val.BaselineSD), meanSD(val.BestMean, val.BestSD)},
		{"95% CI", ci(val.BaselineCI), ci(val.BestCI)},
	})
	for _, l := range statLines(val) {
		fmt.Fprintf(b, "- **%s:** %s\n", l.Key, mdInline(l.Value))
	}
	b.WriteString("\n**Integrity checks**\n\n")
	if len(val.Checks) == 0 {
		mdNotRun(b, "No integrity checks.")
	} else {
		rows = nil
		for _, c := range val.Checks {
			rows = append(rows, []string{mdInline(c.Name), passed(c.Passed), mdInline(c.Detail)})
		}
		mdTable(b, []string{"Check", "Result", "Detail"}, "", rows)
	}
	if len(v.Seeds) > 0 {
		fmt.Fprintf(b, "![Validation per seed](%s)\n\n", SeedPlotFile)
	}
}

func passed(ok bool) string {
	if ok {
		return "✅ passed"
	}
	return "❌ FAILED"
}

func meanSD(mean, sd float64) string {
	return num(mean) + " ± " + num(sd)
}

func ci(c [2]float64) string {
	return "[" + num(c[0]) + ", " + num(c[1]) + "]"
}

// statLines are the validation's tests and verdict, as label and value.
func statLines(val *Validation) []kv {
	out := []kv{
		{"Deciding test", orDash(val.Test)},
		{"Difference of means", num(val.Diff)},
		{"p-value (deciding)", pValue(val.P)},
	}
	for _, p := range val.PValues {
		v := "not computed"
		if p.P != nil {
			v = pValue(*p.P)
		}
		if p.Note != "" {
			v += " (" + p.Note + ")"
		}
		out = append(out, kv{"p-value, " + p.Test, v})
	}
	g := "undefined (no variation across seeds, or fewer than two per arm)"
	if val.EffectSize != nil {
		g = num(*val.EffectSize)
	}
	out = append(out, kv{"Effect size (Hedges' g)", g})
	if val.Note != "" {
		out = append(out, kv{"Note", val.Note})
	}
	rel := "relative change undefined: the baseline's value is 0"
	if val.Relative != nil {
		to := "relative to the baseline"
		if val.RelativeTo != "" && val.RelativeTo != "baseline" {
			to = "of the " + val.RelativeTo
		}
		rel = percent(*val.Relative) + " " + to
	}
	return append(out,
		kv{"Improvement", num(val.Improvement) + " absolute (" + rel + ")"},
		kv{"Criterion", orDash(val.Criterion)},
	)
}

func mdDiff(b *strings.Builder, v *view) {
	b.WriteString("## Code diff\n\n")
	if v.Kept != nil {
		fmt.Fprintf(b, "**Code validated:** %s\n\n", mdInline(v.Kept.Reason))
	}
	if len(v.Generated) > 0 {
		b.WriteString("Outputs and data files the run wrote, left out of the diff:\n\n")
		var rows [][]string
		for _, g := range v.Generated {
			rows = append(rows, []string{mdInline(g.Path), fileSize(g.Bytes), mdInline(g.Why)})
		}
		mdTable(b, []string{"File", "Size", "Why"}, "lrl", rows)
	}
	if strings.TrimSpace(v.DiffShown) == "" {
		if len(v.Generated) > 0 {
			mdNotRun(b, "No code changes beyond the files above.")
		} else {
			mdNotRun(b, "No diff: no solution differs from the prototype.")
		}
		return
	}
	b.WriteString(fenced(v.DiffShown, "diff") + "\n")
	if v.DiffCut {
		mdNotRun(b, fmt.Sprintf("The diff is cut at %d KiB; the whole diff is best.diff in the run directory.", maxDiff>>10))
	}
}

func mdCosts(b *strings.Builder, v *view) {
	b.WriteString("## Tokens and cost\n\n")
	if len(v.Costs) == 0 {
		mdNotRun(b, "No model calls recorded.")
	} else {
		var rows [][]string
		for _, c := range v.Costs {
			rows = append(rows, []string{mdInline(c.Phase), tokens(c.InputTokens), tokens(c.OutputTokens), cost(c.USD, c.UnknownPrice), duration(c.Wall)})
		}
		t := v.Total
		rows = append(rows, []string{"**total**", tokens(t.InputTokens), tokens(t.OutputTokens), cost(t.USD, t.UnknownPrice), duration(v.Wall)})
		mdTable(b, []string{"Phase", "Input tokens", "Output tokens", "Cost", "Wall time"}, "lrrrr", rows)
	}
	fmt.Fprintf(b, "Wall time of the run: %s.\n\n", duration(v.Wall))
}

// cost formats dollars and the calls left out of them.
func cost(dollars float64, unknown int) string {
	s := usd(dollars)
	switch {
	case unknown == 1:
		s += " + 1 call, price unknown"
	case unknown > 1:
		s += fmt.Sprintf(" + %d calls, price unknown", unknown)
	}
	return s
}

func mdFeedback(b *strings.Builder, v *view) {
	b.WriteString("## Human feedback\n\n")
	if len(v.Feedback) == 0 {
		mdNotRun(b, "None given.")
		return
	}
	for i, f := range v.Feedback {
		fmt.Fprintf(b, "%d. %s\n", i+1, mdInline(f))
	}
	b.WriteString("\n")
}

func mdManifest(b *strings.Builder, v *view) {
	b.WriteString("## Manifest\n\n")
	var rows [][]string
	for _, r := range manifestRows(v) {
		rows = append(rows, []string{r.Key, mdInline(r.Value)})
	}
	mdTable(b, []string{"What", "Value"}, "", rows)
	if len(v.Packages) > 0 {
		rows = nil
		for _, p := range v.Packages {
			rows = append(rows, []string{mdInline(p.Key), mdInline(p.Value)})
		}
		mdTable(b, []string{"Python package", "Version"}, "", rows)
	}
	b.WriteString("### Reproduce\n\n")
	if strings.TrimSpace(v.Manifest.Command) == "" {
		mdNotRun(b, "No command recorded.")
		return
	}
	b.WriteString(fenced(v.Manifest.Command, "sh"))
}

// manifestRows are the manifest as label and value.
func manifestRows(v *view) []kv {
	m := v.Manifest
	version := orDash(m.MlrcVersion)
	if m.Commit != "" {
		version += " (commit " + m.Commit + ")"
	}
	return []kv{
		{"mlrc", version},
		{"Go", orDash(m.GoVersion)},
		{"OS", orDash(m.OS)},
		{"Models", orDash(strings.Join(m.Models, ", "))},
		{"Seeds", orDash(ints(m.Seeds))},
		{"Task hash", orDash(m.TaskHash)},
		{"Python", orDash(m.Python)},
		{"Sandbox", orDash(m.Sandbox)},
	}
}
