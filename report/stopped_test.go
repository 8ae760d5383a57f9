package report

import (
	"strings"
	"testing"
	"time"
)

// TestStoppedRun: a run that stopped early still gets both reports, which
// name the phase, the reason and how to go on, and list the warnings.
func TestStoppedRun(t *testing.T) {
	d := &Data{RunID: "r1", Title: "digits", Started: time.Unix(0, 0), Finished: time.Unix(60, 0),
		Stopped:  &Stopped{Phase: "experiment", Status: "stopped", Reason: "budget of $1.00 spent", Resume: "mlrc resume r1"},
		Warnings: []Warning{{Phase: "idea", Message: `idea 2 cites "x:y"; valid citations: [index:1]`}}}
	md := Markdown(d)
	page, err := HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"report.md": md, "report.html": page} {
		for _, want := range []string{"Run stopped in phase experiment", "budget of $1.00 spent", "mlrc resume r1", "valid citations:", "index:1"} {
			if !strings.Contains(text, want) && !strings.Contains(text, strings.ReplaceAll(want, `"`, "&#34;")) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
	if d.Stopped = nil; strings.Contains(Markdown(d), "Run stopped") {
		t.Errorf("a finished run's report says it stopped")
	}
}
