package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrNoData is returned by a plot that has nothing to draw: no steps, or
// no validation.
var ErrNoData = errors.New("report: nothing to plot")

// The plots' colours.
var (
	colRuns     = color.RGBA{0x1f, 0x77, 0xb4, 0xff} // blue: runs, the baseline arm
	colBest     = color.RGBA{0xff, 0x7f, 0x0e, 0xff} // orange: best so far, the best arm
	colBaseline = color.RGBA{0x55, 0x55, 0x55, 0xff} // grey: the baseline line, means and CIs
	colFailed   = color.RGBA{0xd6, 0x27, 0x28, 0xff} // red: failed runs
	colPair     = color.RGBA{0xbb, 0xbb, 0xbb, 0xff} // light grey: a seed's pair of re-runs
)

const fontSize = 9

// vgsvgFamily is what vgsvg writes for the plots' font; cssFamily is what
// the plots ask for instead: the same font (the layout was computed with
// its metrics), then fonts with the same metrics, then any sans-serif.
const (
	vgsvgFamily = "font-family:Liberation Sans;"
	cssFamily   = "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"
)

// sans is the plots' font: Liberation Sans, which gonum/plot carries.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// newPlot returns a plot with the report's fonts.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(fontSize + 2)
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(fontSize)
		a.Tick.Label.Font = sans(fontSize - 1)
	}
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.Legend.TextStyle.Font = sans(fontSize)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.ThumbnailWidth = 16
	p.Legend.Padding = 2.5
	return p
}

// render draws p on white with its legend in a strip on the right,
// outside the data, and returns the SVG.
func render(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	legend := p.Legend
	p.Legend = plot.NewLegend() // empty: p.Draw would draw it over the data
	p.BackgroundColor = nil
	width := legendWidth(&legend)
	p.Draw(draw.Crop(dc, 0, -width, 0, 0))
	lc := draw.Crop(dc, w-width+6, 0, 0, 0)
	// Align the legend with the top of the data, below the title.
	lc.Max.Y -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	legend.Draw(lc)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("write svg: %w", err)
	}
	return checkSVG(bytes.ReplaceAll(buf.Bytes(), []byte(vgsvgFamily), []byte(cssFamily)))
}

// legendWidth is the width of the strip for l, with a margin.
func legendWidth(l *plot.Legend) vg.Length {
	r := l.Rectangle(draw.Canvas{})
	return r.Size().X + 12
}

// checkSVG refuses an SVG that could run or load anything: vgsvg writes
// neither, but the HTML trusts these bytes.
func checkSVG(b []byte) ([]byte, error) {
	low := strings.ToLower(string(b))
	for _, bad := range []string{"<script", "<foreignobject", "<image", "href=", "url(", "@import", "@font-face"} {
		if strings.Contains(low, bad) {
			return nil, fmt.Errorf("svg contains %q", bad)
		}
	}
	return b, nil
}

// glyph returns a glyph style.
func glyph(c color.Color, shape draw.GlyphDrawer, r vg.Length) draw.GlyphStyle {
	return draw.GlyphStyle{Color: c, Shape: shape, Radius: r}
}

// cross is a glyph that draws an X, bolder than draw.CrossGlyph.
type cross struct{}

func (cross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: 1.5})
	r := sty.Radius * math.Sqrt2 / 2
	for _, d := range []vg.Length{r, -r} {
		c.Stroke(vg.Path{
			{Type: vg.MoveComp, Pos: vg.Point{X: pt.X - r, Y: pt.Y - d}},
			{Type: vg.LineComp, Pos: vg.Point{X: pt.X + r, Y: pt.Y + d}},
		})
	}
}

func line(c color.Color, width vg.Length, dashes ...vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: width, Dashes: dashes}
}

// yRange returns the range of the finite values with a margin; failures
// are marked at its bottom.
func yRange(values []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	switch {
	case lo > hi:
		return 0, 1
	case lo == hi:
		pad := math.Max(math.Abs(lo)*0.05, 0.5)
		return lo - pad, hi + pad
	}
	pad := (hi - lo) * 0.08
	return lo - pad, hi + pad
}
