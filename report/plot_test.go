package report

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// glyphs counts the filled shapes of a colour in an SVG.
func glyphs(svg []byte, hex string) int {
	return strings.Count(string(svg), "fill:"+hex+"\"") + strings.Count(string(svg), "fill:"+hex+";")
}

// strokes counts the stroked paths of a colour in an SVG.
func strokes(svg []byte, hex string) int {
	return strings.Count(string(svg), "stroke:"+hex)
}

func TestMetricPlot(t *testing.T) {
	d := example()
	svg, err := MetricPlot(d)
	if err != nil {
		t.Fatal(err)
	}
	runs, fails := 0, 0
	for _, s := range d.Steps {
		if s.Metric != nil {
			runs++
		} else {
			fails++
		}
	}
	// One more of each in the legend; a cross is two strokes.
	if got, want := glyphs(svg, "#1F77B4"), runs+1; got != want {
		t.Errorf("run points: got %d, want %d", got, want)
	}
	if got, want := strokes(svg, "#D62728"), 2*(fails+1); got != want {
		t.Errorf("failed-run crosses: got %d, want %d", got, want)
	}
	if got, want := strokes(svg, "#FF7F0E"), 2; got != want {
		t.Errorf("best-so-far lines: got %d, want %d (the plot and the legend)", got, want)
	}
	checkPlotSVG(t, svg)
}

func TestSeedPlot(t *testing.T) {
	d := failed()
	svg, err := SeedPlot(d)
	if err != nil {
		t.Fatal(err)
	}
	v := d.Validation
	count := func(xs []float64) (n int) {
		for _, x := range xs {
			if !math.IsNaN(x) {
				n++
			}
		}
		return n
	}
	if got, want := glyphs(svg, "#1F77B4"), count(v.Baseline)+1; got != want {
		t.Errorf("baseline points: got %d, want %d", got, want)
	}
	if got, want := glyphs(svg, "#FF7F0E"), count(v.Best)+1; got != want {
		t.Errorf("best points: got %d, want %d", got, want)
	}
	if got, want := strokes(svg, "#D62728"), 2*(1+1); got != want {
		t.Errorf("failed re-run crosses: got %d, want %d", got, want)
	}
	checkPlotSVG(t, svg)
}

func checkPlotSVG(t *testing.T, svg []byte) {
	t.Helper()
	s := string(svg)
	if len(svg) > 64<<10 {
		t.Errorf("the SVG is %d bytes; want it small", len(svg))
	}
	for _, bad := range []string{"@font-face", "url(", "@import", "<image", "href"} {
		if strings.Contains(s, bad) {
			t.Errorf("the SVG contains %q", bad)
		}
	}
	if strings.Contains(s, "font-family:Liberation Sans;") || !strings.Contains(s, cssFamily) {
		t.Errorf("the SVG's text wants fallback fonts")
	}
}

func TestPlotsWithoutData(t *testing.T) {
	d := empty()
	if _, err := MetricPlot(d); !errors.Is(err, ErrNoData) {
		t.Errorf("MetricPlot: got %v, want ErrNoData", err)
	}
	if _, err := SeedPlot(d); !errors.Is(err, ErrNoData) {
		t.Errorf("SeedPlot: got %v, want ErrNoData", err)
	}
	// Values that are not finite numbers, steps out of order: still plots.
	inf, nan := math.Inf(1), math.NaN()
	d.Steps = []StepPoint{{Step: 3, Metric: &inf, Best: &nan}, {Step: 1, Metric: f(0.5), Best: f(0.5)}}
	d.Baseline = &nan
	d.Validation = &Validation{Seeds: []int{1, 2}, Baseline: []float64{inf, 0.5}, Best: []float64{nan}, BaselineMean: nan, BestCI: [2]float64{inf, 1}}
	if _, err := MetricPlot(d); err != nil {
		t.Errorf("MetricPlot with infinities: %v", err)
	}
	if _, err := SeedPlot(d); err != nil {
		t.Errorf("SeedPlot with infinities: %v", err)
	}
	if err := Write(t.TempDir(), d); err != nil {
		t.Errorf("Write with infinities: %v", err)
	}
	d.Validation = nil
	d.Baseline = nil
	// Only failed runs, no baseline: still a plot.
	d.Steps = []StepPoint{{Step: 1}, {Step: 2}}
	if _, err := MetricPlot(d); err != nil {
		t.Errorf("MetricPlot with failed runs only: %v", err)
	}
}

// strokeWidths returns, for each path stroked in a colour, how far it
// reaches along x (0 for a path that is a point).
func strokeWidths(svg []byte, hex string) []float64 {
	var out []float64
	for _, el := range strings.Split(string(svg), "<path")[1:] {
		el = el[:strings.Index(el, ">")]
		if !strings.Contains(el, "stroke:"+hex) {
			continue
		}
		i := strings.Index(el, `d="`)
		if i < 0 {
			continue
		}
		d := el[i+3:]
		d = d[:strings.Index(d, `"`)]
		lo, hi := math.Inf(1), math.Inf(-1)
		fields := strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' || r == ' ' || r == 'Z' || r == ',' })
		for k := 0; k+1 < len(fields); k += 2 {
			x, err := strconv.ParseFloat(fields[k], 64)
			if err != nil {
				continue
			}
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		out = append(out, hi-lo)
	}
	return out
}

// With a single run the plot still draws the baseline and the best so far
// as lines, not as points of no width.
func TestMetricPlotOneRun(t *testing.T) {
	d := empty()
	d.Task = Task{Name: "t", Metric: "accuracy", Goal: "maximize"}
	d.Baseline = f(0.9)
	d.Steps = []StepPoint{{Step: 1, Metric: f(0.95), Best: f(0.95)}}
	svg, err := MetricPlot(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, hex string }{{"baseline", "#555555"}, {"best so far", "#FF7F0E"}} {
		widths := strokeWidths(svg, c.hex)
		if len(widths) < 2 {
			t.Fatalf("%s: %d paths, want the line and its legend entry", c.what, len(widths))
		}
		// The first path is the plot's line, the last the legend's.
		if widths[0] < 50 {
			t.Errorf("%s: the line is %.1f units wide, want it across the plot", c.what, widths[0])
		}
	}
}
