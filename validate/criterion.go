package validate

import (
	"fmt"
	"math"

	"github.com/mlrc/mlrc/task"
)

// DefaultAlpha is the significance level when Criterion.Alpha is zero.
const DefaultAlpha = 0.05

// Criterion says what counts as a success. The improvement is always
// oriented by the metric's goal (for a metric to minimize it is baseline −
// best) and must be strictly positive; the zero Criterion asks for nothing
// more, at the default significance level.
type Criterion struct {
	// MinImprovement is the smallest improvement of the means, in the
	// metric's units.
	MinImprovement float64 `json:"min_improvement"`
	// MinRelative is the smallest improvement relative to the baseline
	// (see RelativeChange: on the error for a bounded metric): 0.10 is
	// 10% better, MLAgentBench's definition of success.
	MinRelative float64 `json:"min_relative"`
	// Alpha is the significance level of Welch's t-test; 0 means
	// DefaultAlpha.
	Alpha float64 `json:"alpha"`
}

func (c Criterion) withDefaults() Criterion {
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	return c
}

func (c Criterion) validate() error {
	switch {
	case !(c.Alpha > 0 && c.Alpha < 1):
		return fmt.Errorf("criterion: alpha %v: want a level between 0 and 1, such as 0.05", c.Alpha)
	case !(c.MinImprovement >= 0) || math.IsInf(c.MinImprovement, 0):
		return fmt.Errorf("criterion: min improvement %v: want 0 or more, in the metric's units", c.MinImprovement)
	case !(c.MinRelative >= 0) || math.IsInf(c.MinRelative, 0):
		return fmt.Errorf("criterion: min relative improvement %v: want 0 or more, e.g. 0.10 for 10%%", c.MinRelative)
	}
	return nil
}

// boundedMetrics are metrics to maximize whose best value is 1: their
// relative change is taken on the error, 1 − metric, which is what the
// model still gets wrong. An F1 of 0 has an error of 1, so its relative
// change is defined; from 0.96 to 0.98 accuracy is half the errors gone.
var boundedMetrics = map[string]bool{
	"accuracy": true, "acc": true, "balanced_accuracy": true,
	"f1": true, "f1_score": true, "binary_f1": true, "macro_f1": true, "f1_macro": true, "micro_f1": true, "f1_micro": true, "weighted_f1": true, "f1_weighted": true,
	"precision": true, "recall": true, "auc": true, "roc_auc": true, "auroc": true, "pr_auc": true, "average_precision": true, "map": true, "ndcg": true,
	"iou": true, "miou": true, "dice": true, "jaccard": true, "r2": true, "spearman": true, "pearson": true, "kappa": true, "cohen_kappa": true, "mcc": true,
}

// RelativeTo values.
const (
	RelativeToBaseline = "baseline"
	RelativeToError    = "baseline error (1 − metric)"
)

// RelativeChange returns the improvement (oriented by the goal) relative
// to the baseline: over its error 1 − baseline for a bounded metric to
// maximize, else over |baseline|; with what it is relative to, and false
// when that is 0 (undefined).
func RelativeChange(metric string, goal task.Goal, improvement, baselineMean float64) (float64, string, bool) {
	if goal == task.Maximize && boundedMetrics[normalizeMetric(metric)] && baselineMean <= 1 {
		e := 1 - baselineMean
		if e == 0 {
			return 0, RelativeToError, false
		}
		return improvement / e, RelativeToError, true
	}
	if baselineMean == 0 || math.IsNaN(baselineMean) {
		return 0, RelativeToBaseline, false
	}
	return improvement / math.Abs(baselineMean), RelativeToBaseline, true
}

// RelativeText says a relative change in words: "+50.0% of the baseline
// error (1 − metric)", or that it is undefined.
func RelativeText(rel *float64, to string) string {
	if rel == nil {
		return "relative change undefined: the baseline's value is 0"
	}
	if to == RelativeToError {
		return fmt.Sprintf("%+.2f%% of the %s", 100**rel, to)
	}
	return fmt.Sprintf("%+.2f%% relative to the baseline", 100**rel)
}

// Met reports whether an improvement of the means (oriented by the goal)
// and its relative change (nil when undefined; see RelativeChange) meet
// c, and if not, why, as a phrase.
func (c Criterion) Met(improvement float64, rel *float64, to string) (bool, string) {
	if !(improvement > 0) {
		return false, fmt.Sprintf("the best solution is not better than the baseline (improvement %.4g)", improvement)
	}
	if improvement < c.MinImprovement {
		return false, fmt.Sprintf("the improvement %.4g is below the required %.4g", improvement, c.MinImprovement)
	}
	if c.MinRelative > 0 {
		if rel == nil {
			return false, "the relative improvement is undefined (the baseline's mean is 0)"
		}
		if *rel < c.MinRelative {
			of := "relative to the baseline"
			if to == RelativeToError {
				of = "of the " + to
			}
			return false, fmt.Sprintf("the relative improvement %.2f%% (%s) is below the required %.2f%%", 100**rel, of, 100*c.MinRelative)
		}
	}
	return true, ""
}
