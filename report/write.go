package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes the report into dir: report.md, report.html and the plots
// (MetricPlotFile, SeedPlotFile). A plot with nothing to draw is not
// written, and one left from an earlier report is removed, so the
// directory matches report.md.
func Write(dir string, d *Data) error {
	if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	metric, err := writePlot(dir, MetricPlotFile, MetricPlot, d)
	if err != nil {
		return err
	}
	seeds, err := writePlot(dir, SeedPlotFile, SeedPlot, d)
	if err != nil {
		return err
	}
	page, err := renderHTML(d, metric, seeds)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for name, content := range map[string]string{"report.md": Markdown(d), "report.html": page} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// writePlot draws a plot into dir/file and returns it; nil when there is
// nothing to draw.
func writePlot(dir, file string, draw func(*Data) ([]byte, error), d *Data) ([]byte, error) {
	path := filepath.Join(dir, filepath.FromSlash(file))
	svg, err := draw(d)
	switch {
	case errors.Is(err, ErrNoData):
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("report: %w", err)
		}
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("report: %s: %w", file, err)
	}
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return svg, nil
}
