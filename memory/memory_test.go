package memory

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/validate"
)

const diff = `diff --git a/train.py b/train.py
--- a/train.py
+++ b/train.py
@@ -1,3 +1,4 @@
-from sklearn.linear_model import LogisticRegression
+from sklearn.svm import SVC
+import numpy as np
 x = 1
diff --git a/feats.py b/feats.py
new file mode 100644
--- /dev/null
+++ b/feats.py
@@ -0,0 +1,2 @@
+def f(): pass
+API_KEY = "sk-secret-123"
`

func TestEntryAndRecall(t *testing.T) {
	if got, want := Changes(diff), "train.py +2 -1; feats.py (new) +2 -0"; got != want {
		t.Errorf("Changes = %q, want %q", got, want)
	}
	if got := Changes(""); got != "no code change" {
		t.Errorf("Changes of no diff = %q", got)
	}
	redact := func(s string) string { return strings.ReplaceAll(s, "sk-secret-123", "[redacted]") }
	best := 0.994
	rel := 0.78
	validated := Entry(Outcome{Task: "digits", Fingerprint: "fp", RunID: "r1", Idea: "SVM sk-secret-123", Diff: diff, Metric: "accuracy", Goal: "maximize",
		Baseline: 0.974, Best: &best, Verdict: &validate.Verdict{Success: true, RelativeImprovement: &rel}}, redact)
	if validated.Idea != "SVM [redacted]" || validated.Verdict != "validated" || *validated.Relative != 0.78 || strings.Contains(validated.Changes, "sk-") {
		t.Errorf("entry = %+v", validated)
	}
	worse := 0.96
	stopped := Entry(Outcome{Task: "digits", Fingerprint: "fp", RunID: "r2", Idea: "kNN", Metric: "accuracy", Goal: "maximize", Baseline: 0.974, Best: &worse, Stopped: "validation"}, nil)
	if stopped.Verdict != "stopped in the validation phase, not validated" || stopped.Relative == nil || *stopped.Relative >= 0 {
		t.Errorf("stopped entry = %+v (relative %v)", stopped, stopped.Relative)
	}
	loss := 0.5
	minimized := Entry(Outcome{Task: "texts", Fingerprint: "fq", Idea: "encoder", Metric: "log_loss", Goal: "minimize", Baseline: 0.9, Best: &loss,
		Verdict: &validate.Verdict{P: 0.2, Criterion: validate.Criterion{Alpha: 0.05}}}, nil)
	if *minimized.Relative < 0.44 || *minimized.Relative > 0.45 || minimized.Verdict != "not significant (p = 0.2)" {
		t.Errorf("minimized entry: relative %v, verdict %q", *minimized.Relative, minimized.Verdict)
	}
	if got := Line(minimized); !strings.Contains(got, `idea "encoder": log_loss 0.9 → 0.5 (+44% in the goal's direction), not significant`) {
		t.Errorf("line = %s", got)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, m := range []store.Memory{stopped, validated, minimized} {
		if err := st.Remember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	lines, err := Recall(ctx, st, "digits", "fp")
	if err != nil || len(lines) != 2 {
		t.Fatalf("recall: %v %q", err, lines)
	}
	if !strings.HasPrefix(lines[0], `idea "SVM [redacted]": accuracy 0.974 → 0.994 (+78% of the error, in the goal's direction), validated; changes: train.py +2 -1`) ||
		!strings.HasPrefix(lines[1], `idea "kNN"`) {
		t.Errorf("recalled, best first:\n%s", strings.Join(lines, "\n"))
	}
	if lines, _ := Recall(ctx, st, "digits", "other-data"); len(lines) != 0 {
		t.Errorf("another fingerprint recalled %q", lines)
	}
}
