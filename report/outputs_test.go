package report

import (
	"strings"
	"testing"
)

// The diff section names the validated code and lists the generated files
// with their sizes instead of diffing them; each run's output is linked.
func TestGeneratedKeptAndLogs(t *testing.T) {
	md := Markdown(example())
	for _, want := range []string{
		"**Code validated:** run 3 (accuracy 0.9806), the best measured run, which the final answer named",
		"| predictions.csv | 3.7 KiB | the task's output, read by the evaluator |",
		"| cache/features.npy | 628.6 KiB | data file (.npy) |",
		"- run 1: [stdout](logs/run-1-stdout.txt) · [stderr](logs/run-1-stderr.txt)",
		"- baseline: [stdout](logs/baseline-stdout.txt)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	page, err := HTML(example())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<a href="logs/run-1-stdout.txt">stdout</a> · <a href="logs/run-1-stderr.txt">stderr</a>`,
		`<td><code>cache/features.npy</code></td><td class="n">628.6 KiB</td>`, "<strong>Code validated:</strong> run 3"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// Only plain relative paths are linked.
	md = Markdown(hostile())
	page, err = HTML(hostile())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"](javascript:", "](../", "](https://evil.example/x)", `href="javascript:`, `href="../`, `href="https://evil`} {
		if strings.Contains(md, bad) || strings.Contains(page, bad) {
			t.Errorf("a hostile log path is linked: %q", bad)
		}
	}
	// Only generated files, no code change: said so.
	d := example()
	d.Diff = ""
	if md := Markdown(d); !strings.Contains(md, "No code changes beyond the files above.") {
		t.Errorf("report.md does not say the run changed no code")
	}
}

func TestFileSize(t *testing.T) {
	for n, want := range map[int64]string{-1: "deleted", 0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := fileSize(n); got != want {
			t.Errorf("fileSize(%d) = %q, want %q", n, got, want)
		}
	}
}
