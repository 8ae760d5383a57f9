package report

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SeedPlot draws the validation as SVG: the baseline and the best arm side
// by side, a point per seed (a light line joins a seed's two re-runs), and
// each arm's mean with its 95% confidence interval; a failed re-run is a
// red cross on the bottom of the axis. It returns ErrNoData when the
// result was not validated.
func SeedPlot(d *Data) ([]byte, error) {
	v := d.Validation
	if v == nil || len(v.Seeds) == 0 {
		return nil, ErrNoData
	}
	arms := []struct {
		name       string
		values     []float64
		mean       float64
		ci         [2]float64
		col        color.Color
		x          float64
		meanOffset float64
	}{
		{"baseline", v.Baseline, v.BaselineMean, v.BaselineCI, colRuns, 0, -0.28},
		{"best", v.Best, v.BestMean, v.BestCI, colBest, 1, 0.28},
	}
	values := []float64{}
	for _, a := range arms {
		values = append(values, a.values...)
		values = append(values, a.mean, a.ci[0], a.ci[1])
	}
	lo, hi := yRange(values)

	p := newPlot("Validation per seed", "", yLabel(d))
	p.Y.Min, p.Y.Max = lo, hi
	p.X.Min, p.X.Max = -0.6, 1.6
	p.NominalX(arms[0].name, arms[1].name)

	n := len(v.Seeds)
	jitter := func(i int) float64 { // spread a seed's points around the arm
		if n == 1 {
			return 0
		}
		return -0.12 + 0.24*float64(i)/float64(n-1)
	}
	for i := range v.Seeds {
		b, x := at(v.Baseline, i), at(v.Best, i)
		if !finite(b, x) {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: jitter(i), Y: b}, {X: 1 + jitter(i), Y: x}})
		if err != nil {
			return nil, fmt.Errorf("seed plot: pair: %w", err)
		}
		l.LineStyle = line(colPair, 0.75)
		p.Add(l)
	}
	var failed plotter.XYs
	for _, a := range arms {
		var pts plotter.XYs
		for i := range v.Seeds {
			y := at(a.values, i)
			if !finite(y) { // a failed re-run
				failed = append(failed, plotter.XY{X: a.x + jitter(i), Y: lo})
				continue
			}
			pts = append(pts, plotter.XY{X: a.x + jitter(i), Y: y})
		}
		if len(pts) > 0 {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("seed plot: %s: %w", a.name, err)
			}
			s.GlyphStyle = glyph(a.col, draw.CircleGlyph{}, 3)
			p.Add(s)
			p.Legend.Add(a.name+" (per seed)", s)
		}
	}
	var means ciPoints
	for _, a := range arms {
		if finite(a.mean, a.ci[0], a.ci[1]) {
			means = append(means, ciPoint{x: a.x + a.meanOffset, y: a.mean, lo: a.ci[0], hi: a.ci[1]})
		}
	}
	if len(means) > 0 {
		bars, err := plotter.NewYErrorBars(means)
		if err != nil {
			return nil, fmt.Errorf("seed plot: CI: %w", err)
		}
		bars.LineStyle = line(colBaseline, 1.25)
		bars.CapWidth = 8
		s, err := plotter.NewScatter(means)
		if err != nil {
			return nil, fmt.Errorf("seed plot: means: %w", err)
		}
		s.GlyphStyle = glyph(colBaseline, draw.BoxGlyph{}, 3)
		p.Add(bars, s)
		p.Legend.Add("mean, 95% CI", s)
	}
	if len(failed) > 0 {
		s, err := plotter.NewScatter(failed)
		if err != nil {
			return nil, fmt.Errorf("seed plot: failed: %w", err)
		}
		s.GlyphStyle = glyph(colFailed, cross{}, 3.5)
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("failed re-run (%d)", len(failed)), s)
	}
	return render(p, 5.5*vg.Inch, 3*vg.Inch)
}

// ciPoint is a mean with its confidence interval, for error bars.
type ciPoint struct{ x, y, lo, hi float64 }

type ciPoints []ciPoint

func (c ciPoints) Len() int                { return len(c) }
func (c ciPoints) XY(i int) (x, y float64) { return c[i].x, c[i].y }
func (c ciPoints) YError(i int) (low, high float64) {
	return c[i].y - c[i].lo, c[i].hi - c[i].y
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
