package cli

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var medianCol = regexp.MustCompile(`^\s+(?:≤ \S+(?: (?:ms|s|MB))?|-)\s+([0-9.]+)`)

// TestBenchPerf runs a CI-sized sample of mlrc bench perf: every figure of
// the table is measured and printed with a finite value. Timings are not
// judged here (the machine running the tests is shared); make bench does.
func TestBenchPerf(t *testing.T) {
	taskDir := digitsTask(t)
	pdf := filepath.Join("..", "..", "..", "shared", "papers", "rcpp_eddelbuettel2011_jss.pdf")
	withPDF := true
	if _, err := os.Stat(pdf); err != nil {
		t.Logf("%s is absent: the first-PDF figure is not checked", pdf)
		withPDF = false
	}
	// The PDF is read by this binary re-executed as mlrc (see TestMain).
	t.Setenv("MLRC_TEST_AS_CLI", "1")
	r := run(t, nil, "bench", "perf", "--runs", "1", "--steps", "6", "--reps", "2", "--seeds", "0",
		"--task", taskDir, "--pdf", pdf)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	figures := []string{figStep, figWall, figSandbox, figBwrap, figOverBw, figValidate, figReport, figBinary}
	if withPDF {
		figures = append(figures, figPDF)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.Contains(r.stdout, "figure") || !strings.Contains(r.stdout, "median") {
		t.Fatalf("no table header:\n%s", r.stdout)
	}
	for _, name := range figures {
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, name+"  ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("figure %q is not in the table:\n%s", name, r.stdout)
			continue
		}
		// The columns after the name: goal ("≤ 5 ms", or "-" for a
		// reference), then the median.
		m := medianCol.FindStringSubmatch(strings.TrimPrefix(line, name))
		if m == nil {
			t.Errorf("figure %q: no goal and median in %q", name, line)
			continue
		}
		med, err := strconv.ParseFloat(m[1], 64)
		if err != nil || math.IsNaN(med) || math.IsInf(med, 0) || med <= 0 {
			t.Errorf("figure %q has no finite positive median (%q): %s", name, m[1], line)
		}
	}
	// Where the sandbox's start goes, phase by phase.
	for _, phase := range []string{"prepare", "start", "limits", "command", "stop"} {
		if !regexp.MustCompile(`sandbox start, median per phase .*\b` + phase + ` [0-9.]+ ms`).MatchString(r.stdout) {
			t.Errorf("phase %q is not printed:\n%s", phase, r.stdout)
		}
	}
}
