package report

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// MetricPlot draws the metric per step as SVG: a point per run, a step
// line for the best so far, a dashed horizontal line for the baseline, and
// a red cross on the bottom of the axis per failed run. It returns
// ErrNoData when there are no steps.
func MetricPlot(d *Data) ([]byte, error) {
	if len(d.Steps) == 0 {
		return nil, ErrNoData
	}
	var ok, best, failed plotter.XYs
	var values []float64
	first, last := math.Inf(1), math.Inf(-1)
	for _, s := range d.Steps {
		x := float64(s.Step)
		first, last = math.Min(first, x), math.Max(last, x)
		// A metric that is not a finite number is drawn as a failure.
		if s.Metric != nil && finite(*s.Metric) {
			ok = append(ok, plotter.XY{X: x, Y: *s.Metric})
			values = append(values, *s.Metric)
		} else {
			failed = append(failed, plotter.XY{X: x})
		}
		if s.Best != nil && finite(*s.Best) {
			best = append(best, plotter.XY{X: x, Y: *s.Best})
			values = append(values, *s.Best)
		}
	}
	base, baseWhat, hasBase := baseline(d)
	hasBase = hasBase && finite(base)
	if hasBase {
		values = append(values, base)
	}
	lo, hi := yRange(values)
	// The lines span the x axis; with a single step it is widened to one
	// step's width, so the baseline and the best so far still show.
	if last-first < 1 {
		first, last = first-0.5, last+0.5
	}

	p := newPlot("Metric per step", "agent step", yLabel(d))
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = first, last
	p.X.Tick.Marker = plot.TickerFunc(stepTicks)
	if hasBase {
		l, err := plotter.NewLine(plotter.XYs{{X: first, Y: base}, {X: last, Y: base}})
		if err != nil {
			return nil, fmt.Errorf("metric plot: baseline: %w", err)
		}
		l.LineStyle = line(colBaseline, 1, 4, 3)
		p.Add(l)
		p.Legend.Add(baseWhat, l)
	}
	if len(best) > 0 {
		// Carry the best so far to the last step.
		if b := best[len(best)-1]; b.X < last {
			best = append(best, plotter.XY{X: last, Y: b.Y})
		}
		l, err := plotter.NewLine(best)
		if err != nil {
			return nil, fmt.Errorf("metric plot: best: %w", err)
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = line(colBest, 1.5)
		p.Add(l)
		p.Legend.Add("best so far", l)
	}
	if len(ok) > 0 {
		s, err := plotter.NewScatter(ok)
		if err != nil {
			return nil, fmt.Errorf("metric plot: runs: %w", err)
		}
		s.GlyphStyle = glyph(colRuns, draw.CircleGlyph{}, 2.5)
		p.Add(s)
		p.Legend.Add("run", s)
	}
	if len(failed) > 0 {
		for i := range failed {
			failed[i].Y = lo
		}
		s, err := plotter.NewScatter(failed)
		if err != nil {
			return nil, fmt.Errorf("metric plot: failed runs: %w", err)
		}
		s.GlyphStyle = glyph(colFailed, cross{}, 3.5)
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("failed run (%d)", len(failed)), s)
	}
	return render(p, 7*vg.Inch, 3*vg.Inch)
}

// yLabel names the metric and its goal.
func yLabel(d *Data) string {
	if d.Task.Metric == "" {
		return "metric"
	}
	return metricName(d.Task)
}

// stepTicks labels whole steps, 1, 2 or 5 × 10ⁿ apart so that there are
// at most ten labels, with an unlabelled tick on every step between when
// there are few.
func stepTicks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	every := 1.0
	for i := 0; (hi-lo)/every > 10; i++ {
		every *= []float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50, …
	}
	var out []plot.Tick
	for v := lo; v <= hi; v++ {
		switch {
		case math.Mod(v, every) == 0:
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		case hi-lo <= 60:
			out = append(out, plot.Tick{Value: v})
		}
	}
	return out
}
