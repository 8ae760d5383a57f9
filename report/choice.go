package report

import (
	"fmt"
	"strconv"
	"strings"
)

// Forecast is the reviewer's forecast for an idea and how the ranking
// weighed it.
type Forecast struct {
	// Change is the expected change of the task's metric, signed, in the
	// metric's units; Justification says why.
	Change        float64
	Justification string
	// Risk is low, medium or high: how likely the idea gains nothing.
	Risk string
	// Steps and RunSeconds are its cost; Budget is the share of the run's
	// budget that cost takes.
	Steps      int
	RunSeconds float64
	Budget     float64
	// Gain is the expected gain per unit of budget, risk-adjusted; nil
	// when the forecast was not valid and the idea was ranked by the
	// criteria.
	Gain *float64
}

// Choice says why the chosen idea was chosen.
type Choice struct {
	// Rule is how the ideas were ranked; Why is why the first won.
	Rule, Why string
}

// choiceRow is one idea in the table of why the chosen one won.
type choiceRow struct {
	Mark, Title, Expected, Risk, Cost, Gain, Score, Guard string
	Chosen                                                bool
}

// choiceRows are the chosen idea and the alternatives with their
// forecasts; nil when no idea has one.
func choiceRows(d *Data) []choiceRow {
	ideas := append([]Idea{d.Chosen}, d.Alternatives...)
	any := false
	for _, i := range ideas {
		any = any || i.Forecast != nil
	}
	if !any || !hasIdea(d) {
		return nil
	}
	var rows []choiceRow
	for n, i := range ideas {
		r := choiceRow{Title: i.Title, Expected: dash, Risk: dash, Cost: dash, Gain: dash, Score: num(i.Score), Guard: "passed", Chosen: n == 0}
		if n == 0 {
			r.Mark = "chosen"
		}
		if f := i.Forecast; f != nil {
			r.Expected = fmt.Sprintf("%+.4g %s", f.Change, d.Task.Metric)
			r.Risk = f.Risk
			r.Cost = fmt.Sprintf("%d steps × %.0f s", f.Steps, f.RunSeconds)
			if f.Gain != nil {
				r.Cost += fmt.Sprintf(" (%.2f of the budget)", f.Budget)
				r.Gain = num(*f.Gain)
			} else {
				r.Gain = "no valid forecast"
			}
		}
		if !i.Guarded {
			r.Guard = "below the guard"
		}
		rows = append(rows, r)
	}
	return rows
}

// mdChoice writes why the chosen idea won: the rule, the reason, and the
// table of forecasts.
func mdChoice(b *strings.Builder, v *view) {
	rows := choiceRows(v.Data)
	if rows == nil && v.Choice.Why == "" {
		return
	}
	b.WriteString("### Why this idea\n\n")
	if v.Choice.Why != "" {
		fmt.Fprintf(b, "%s.\n\n", mdText(v.Choice.Why))
	}
	if len(rows) > 0 {
		var cells [][]string
		for _, r := range rows {
			mark := r.Mark
			if mark != "" {
				mark = "**" + mark + "**"
			}
			cells = append(cells, []string{mark, mdInline(r.Title), mdInline(r.Expected), r.Risk, mdInline(r.Cost), r.Gain, r.Score, r.Guard})
		}
		mdTable(b, []string{"", "Idea", "Expected change", "Risk", "Cost", "Gain per budget", "Criteria score", "Guard"}, "llrlrrrl", cells)
	}
	if v.Choice.Rule != "" {
		fmt.Fprintf(b, "Rule: %s.\n\n", mdText(v.Choice.Rule))
	}
}

// Trial is one idea a run tried (--n-experiments): its experiment's
// outcome.
type Trial struct {
	Idea, Title, Run string
	// Baseline and Best are the experiment's metric before and at its best
	// run; Best is nil when no run beat or matched the baseline.
	Baseline, Best *float64
	Steps          int
	// Validated marks the trial whose code was validated.
	Validated bool
	// Error is why the experiment failed, if it did.
	Error string
}

// trialRow is a trial as the renderers show it.
type trialRow struct {
	Mark, Idea, Title, Run, Baseline, Best, Steps, Outcome string
}

func trialRows(d *Data) []trialRow {
	var rows []trialRow
	for _, t := range d.Trials {
		r := trialRow{Idea: t.Idea, Title: t.Title, Run: t.Run, Baseline: dash, Best: dash, Steps: strconv.Itoa(t.Steps), Outcome: "not validated"}
		if t.Baseline != nil {
			r.Baseline = num(*t.Baseline)
		}
		if t.Best != nil {
			r.Best = num(*t.Best)
		}
		switch {
		case t.Validated:
			r.Mark, r.Outcome = "validated", "measured best: validated"
		case t.Error != "":
			r.Outcome = "failed: " + clip(t.Error, 120)
		case t.Best == nil:
			r.Outcome = "no run beat the baseline"
		}
		rows = append(rows, r)
	}
	return rows
}

// mdTrials lists each idea tried and its outcome.
func mdTrials(b *strings.Builder, v *view) {
	if len(v.TrialRows) == 0 {
		return
	}
	b.WriteString("### Ideas tried\n\n")
	var cells [][]string
	for _, r := range v.TrialRows {
		mark := r.Mark
		if mark != "" {
			mark = "**" + mark + "**"
		}
		cells = append(cells, []string{mark, mdCode(r.Idea), mdInline(r.Title), mdCode(r.Run), r.Baseline, r.Best, r.Steps, mdInline(r.Outcome)})
	}
	mdTable(b, []string{"", "Idea", "Title", "Run", "Baseline", "Best", "Steps", "Outcome"}, "llllrrrl", cells)
}
