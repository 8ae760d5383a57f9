package report

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"num":         num,
	"novelty":     novelty,
	"opt":         optNum,
	"pvalue":      pValue,
	"tokens":      tokens,
	"duration":    duration,
	"time":        timestamp,
	"dash":        orDash,
	"cost":        cost,
	"meansd":      meanSD,
	"ci":          ci,
	"clip":        clip,
	"rank":        rank,
	"score":       scoreOf,
	"stats":       statLines,
	"diff":        diffLines,
	"plan":        htmlPlan,
	"size":        fileSize,
	"logs":        htmlLogLinks,
	"ideaNovelty": ideaNovelty,
	"inc":         func(i int) int { return i + 1 },
	"join":        func(s []string) string { return strings.Join(s, "; ") },
}).Parse(htmlSource))

// htmlLogLinks links a run's output files, relative to the report.
func htmlLogLinks(l RunLogs) template.HTML {
	var links []string
	for _, f := range []struct{ name, path string }{{"stdout", l.Stdout}, {"stderr", l.Stderr}} {
		switch {
		case f.path == "":
		case localFile(f.path):
			links = append(links, fmt.Sprintf(`<a href="%s">%s</a>`, template.HTMLEscapeString(f.path), f.name))
		default:
			links = append(links, f.name+" <code>"+template.HTMLEscapeString(f.path)+"</code>")
		}
	}
	if len(links) == 0 {
		return "no output"
	}
	return template.HTML(strings.Join(links, " · "))
}

// htmlView is the view with the plots as inline SVG.
type htmlView struct {
	*view
	Title              string
	MetricSVG, SeedSVG template.HTML
	MaxDiffKiB         int
}

// HTML renders the report as one self-contained page: inline CSS, the
// plots as inline SVG, no scripts, nothing that loads; a Content Security
// Policy forbids loading anything should something slip in.
func HTML(d *Data) (string, error) {
	metric, err := MetricPlot(d)
	if err != nil && !errors.Is(err, ErrNoData) {
		return "", err
	}
	seeds, err := SeedPlot(d)
	if err != nil && !errors.Is(err, ErrNoData) {
		return "", err
	}
	return renderHTML(d, metric, seeds)
}

// renderHTML renders the page with the plots given (nil for none).
func renderHTML(d *Data, metric, seeds []byte) (string, error) {
	v := &htmlView{view: newView(d), Title: title(d), MaxDiffKiB: maxDiff >> 10}
	v.MetricSVG = inlineSVG(metric, "The metric per agent step")
	v.SeedSVG = inlineSVG(seeds, "Baseline and best solution per seed")
	var b strings.Builder
	if err := page.Execute(&b, v); err != nil {
		return "", fmt.Errorf("render report.html: %w", err)
	}
	return b.String(), nil
}

// inlineSVG returns an SVG for inclusion in HTML: without its XML prolog,
// labelled for screen readers. The SVG comes from the plots, which
// checkSVG has passed and whose text vgsvg escapes.
func inlineSVG(svg []byte, label string) template.HTML {
	s := string(svg)
	i := strings.Index(s, "<svg")
	if i < 0 {
		return ""
	}
	s = `<svg role="img" aria-label="` + template.HTMLEscapeString(label) + `"` + s[i+len("<svg"):]
	return template.HTML(s)
}

// diffLine is a line of a unified diff with its kind, for colour.
type diffLine struct{ Class, Text string }

func diffLines(diff string) []diffLine {
	diff = strings.TrimRight(diff, "\n")
	if diff == "" {
		return nil
	}
	var out []diffLine
	for _, l := range strings.Split(diff, "\n") {
		class := ""
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "diff "), strings.HasPrefix(l, "index "):
			class = "file"
		case strings.HasPrefix(l, "@@"):
			class = "hunk"
		case strings.HasPrefix(l, "+"):
			class = "add"
		case strings.HasPrefix(l, "-"):
			class = "del"
		}
		out = append(out, diffLine{class, l})
	}
	return out
}
