package validate

import (
	"fmt"
	"math"
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
	// MinRelative is the smallest improvement relative to the baseline's
	// mean: 0.10 is 10% better, MLAgentBench's definition of success.
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

// Relative returns improvement relative to the baseline's mean, and false
// when it is undefined (a baseline mean of zero).
func Relative(improvement, baselineMean float64) (float64, bool) {
	if baselineMean == 0 {
		return 0, false
	}
	return improvement / math.Abs(baselineMean), true
}

// Met reports whether an improvement of the means (oriented by the goal)
// over a baseline mean meets c, and if not, why, as a phrase.
func (c Criterion) Met(improvement, baselineMean float64) (bool, string) {
	if !(improvement > 0) {
		return false, fmt.Sprintf("the best solution is not better than the baseline (improvement %.4g)", improvement)
	}
	if improvement < c.MinImprovement {
		return false, fmt.Sprintf("the improvement %.4g is below the required %.4g", improvement, c.MinImprovement)
	}
	if c.MinRelative > 0 {
		rel, ok := Relative(improvement, baselineMean)
		if !ok {
			return false, "the relative improvement is undefined (the baseline's mean is 0)"
		}
		if rel < c.MinRelative {
			return false, fmt.Sprintf("the relative improvement %.2f%% is below the required %.2f%%", 100*rel, 100*c.MinRelative)
		}
	}
	return true, ""
}
