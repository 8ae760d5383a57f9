// Package perf measures mlrc's performance figures (mlrc bench perf): the
// orchestration cost per agent step, the sandbox's cost over bare Python
// and over bwrap itself, validation's use of the cores, the report phase,
// the first PDF in a fresh HOME and the binary's size. Times that depend on
// the machine are taken as ratios side by side in one run, so the goals
// hold on any machine; each figure keeps every run's value and is judged on
// their median.
package perf

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Figure is one line of the table.
type Figure struct {
	Name string
	// Goal is met when the median is at most Limit (in Unit). A NaN Limit
	// makes the figure a reference without a goal.
	Limit float64
	Unit  string // "ms", "s", "×", "MB"
	// Values are the runs' measurements, in Unit.
	Values []float64
	// Note says what the figure is compared with, or why it has no values.
	Note string
}

// Median is the median of the values, NaN without values.
func (f Figure) Median() float64 {
	if len(f.Values) == 0 {
		return math.NaN()
	}
	v := slices.Clone(f.Values)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Pass reports whether the median meets the goal; false without values.
func (f Figure) Pass() bool {
	m := f.Median()
	return !math.IsNaN(m) && m <= f.Limit
}

// Result is the verdict column: "pass", "FAIL", or "n/a" without values.
func (f Figure) Result() string {
	switch {
	case math.IsNaN(f.Limit):
		return ""
	case len(f.Values) == 0:
		return "n/a"
	case f.Pass():
		return "pass"
	default:
		return "FAIL"
	}
}

// Print writes the figures as a table: figure, goal, median, min, max,
// runs, result, note.
func Print(w io.Writer, figs []Figure) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tgoal\tmedian\tmin\tmax\truns\tresult\tnote")
	for _, f := range figs {
		med, lo, hi := "-", "-", "-"
		if len(f.Values) > 0 {
			med, lo, hi = num(f.Median(), f.Unit), num(slices.Min(f.Values), f.Unit), num(slices.Max(f.Values), f.Unit)
		}
		goal := "≤ " + num(f.Limit, f.Unit)
		if math.IsNaN(f.Limit) {
			goal = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.Name, goal, med, lo, hi, len(f.Values), f.Result(), f.Note)
	}
	tw.Flush()
}

func num(v float64, unit string) string {
	var s string
	switch {
	case math.Abs(v) >= 100:
		s = fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.3g", v)
	}
	if unit == "×" {
		return s + "×"
	}
	return strings.TrimSpace(s + " " + unit)
}

// median of xs, NaN when empty.
func median(xs []float64) float64 { return Figure{Values: xs}.Median() }
