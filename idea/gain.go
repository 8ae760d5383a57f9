package idea

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Budget is what the ideas are weighed against: the task's metric, the
// direction in which it improves, and the limits of a research run. The
// zero value means no task: a positive expected change is then taken as an
// improvement and the default limits apply.
type Budget struct {
	Metric string
	// Goal is "maximize" or "minimize".
	Goal       string
	MaxSteps   int
	RunTimeout time.Duration
	TotalTime  time.Duration
}

// The limits assumed when a Budget leaves them out (the task format's
// defaults).
const (
	defaultMaxSteps   = 30
	defaultRunTimeout = 10 * time.Minute
	defaultTotalTime  = 2 * time.Hour
)

func (b Budget) withDefaults() Budget {
	if b.MaxSteps <= 0 {
		b.MaxSteps = defaultMaxSteps
	}
	if b.RunTimeout <= 0 {
		b.RunTimeout = defaultRunTimeout
	}
	if b.TotalTime <= 0 {
		b.TotalTime = defaultTotalTime
	}
	return b
}

func (b Budget) minimize() bool { return b.Goal == "minimize" }

// metricText names the metric and its direction for the model.
func (b Budget) metricText() string {
	switch {
	case b.Metric != "" && b.minimize():
		return fmt.Sprintf("%s, lower is better: an improvement is a negative change", b.Metric)
	case b.Metric != "":
		return fmt.Sprintf("%s, higher is better: an improvement is a positive change", b.Metric)
	}
	return "the metric of the experiment, signed so that an improvement is a positive change"
}

// Expectation is the reviewer's forecast of what testing an idea gains and
// costs, in the task's terms.
type Expectation struct {
	// Change is the expected change of the task's metric over the
	// baseline, signed, in the metric's units.
	Change        float64 `json:"metric_change"`
	Justification string  `json:"justification"`
	// Risk is the chance that the idea gains nothing: low, medium, high.
	Risk string `json:"risk"`
	// Steps and RunSeconds are the cost: agent steps to implement and tune
	// the idea, and the time of one run of it.
	Steps      int     `json:"steps"`
	RunSeconds float64 `json:"run_seconds"`
}

// Risks are the reviewer's risk levels and the chance of a gain each
// stands for (the expected gain is the forecast change times that chance).
var Risks = []string{"low", "medium", "high"}

var successChance = map[string]float64{"low": 0.8, "medium": 0.5, "high": 0.2}

// shapeExpectation puts the forecast's rules into the review schema: the
// change described in the task's metric and direction, a justification,
// risk an enum, steps and run time bounded by the task's limits.
func shapeExpectation(s *jsonschema.Schema, b Budget) {
	b = b.withDefaults()
	e := prop(s, "expected")
	e.Description = "your forecast of testing this idea on the task: its expected effect on the metric, its risk and its cost"
	c := prop(e, "metric_change")
	c.Description = "the expected change of the task's metric over the baseline when the idea works as planned, in the metric's own units (" +
		b.metricText() + "); e.g. 0.02 for two points of accuracy, -0.05 for a log loss 0.05 lower"
	j := prop(e, "justification")
	j.Description = "why that change: evidence from the papers, the related work, or the baseline's weaknesses"
	minLength(j)
	r := prop(e, "risk")
	r.Description = "how likely the idea gains nothing: low (about 1 in 5), medium (1 in 2), high (4 in 5)"
	for _, v := range Risks {
		r.Enum = append(r.Enum, v)
	}
	st := prop(e, "steps")
	st.Description = fmt.Sprintf("agent steps (edits and runs) needed to implement and tune the idea, at most the task's %d", b.MaxSteps)
	bounds(st, 1, float64(b.MaxSteps))
	rs := prop(e, "run_seconds")
	rs.Description = fmt.Sprintf("seconds one run of the idea's code takes, at most the task's run limit of %.0f s", b.RunTimeout.Seconds())
	bounds(rs, 1, b.RunTimeout.Seconds())
}

// checkExpectation names what is wrong with a forecast beyond its schema;
// nil means it can be ranked on.
func checkExpectation(e *Expectation, b Budget) error {
	b = b.withDefaults()
	switch {
	case e == nil:
		return fmt.Errorf("expected is missing: give the expected metric_change, its justification, the risk (%s), steps and run_seconds", strings.Join(Risks, ", "))
	case math.IsNaN(e.Change) || math.IsInf(e.Change, 0):
		return fmt.Errorf("expected.metric_change is not a number")
	case strings.TrimSpace(e.Justification) == "":
		return fmt.Errorf("expected.justification is empty: say why the metric should change by %g", e.Change)
	case successChance[e.Risk] == 0:
		return fmt.Errorf("expected.risk %q is not one of %s", e.Risk, strings.Join(Risks, ", "))
	case e.Steps < 1 || e.Steps > b.MaxSteps:
		return fmt.Errorf("expected.steps %d is outside 1..%d (the task's step limit)", e.Steps, b.MaxSteps)
	case e.RunSeconds <= 0 || e.RunSeconds > b.RunTimeout.Seconds():
		return fmt.Errorf("expected.run_seconds %g is outside 1..%.0f (the task's run limit)", e.RunSeconds, b.RunTimeout.Seconds())
	}
	return nil
}

// Gain is how an idea's forecast was weighed.
type Gain struct {
	// Expected is the forecast change in the goal's direction: positive
	// is an improvement.
	Expected float64 `json:"expected"`
	// Chance is the chance of a gain that the risk stands for.
	Chance float64 `json:"chance"`
	// Cost is the share of the run's budget the idea takes: the larger of
	// its steps over the step limit and its steps' run time over the total
	// time limit.
	Cost float64 `json:"cost"`
	// Score is Expected × Chance ÷ max(Cost, MinCost): the expected gain
	// per unit of budget, risk-adjusted.
	Score float64 `json:"score"`
}

// MinCost is the least share of the budget an idea is charged: the budget
// is spent in any case, so an idea cheaper than this is not preferred for
// its cheapness alone (a tweak expected to gain little cannot outrank a
// substantial idea because it takes one step).
const MinCost = 0.25

// MinGuard is the least validity and feasibility an idea needs to be
// chosen on its expected gain: below it an idea ranks after every idea that
// passes.
const MinGuard = 3

// RankRule says how ideas are ranked, for ideas.json and the report.
var RankRule = fmt.Sprintf("ideas with validity and feasibility of at least %d rank first, by expected gain per unit of budget "+
	"(the expected change in the goal's direction × the chance of a gain (risk low %.1f, medium %.1f, high %.1f) ÷ the share of the budget, "+
	"counted as at least %.2f), then those without a valid forecast by the six criteria; the criteria score breaks ties",
	MinGuard, successChance["low"], successChance["medium"], successChance["high"], MinCost)

// weigh turns a forecast into a Gain against the budget.
func weigh(e *Expectation, b Budget) *Gain {
	b = b.withDefaults()
	g := &Gain{Expected: e.Change, Chance: successChance[e.Risk]}
	if b.minimize() {
		g.Expected = -e.Change
	}
	steps := float64(e.Steps)
	g.Cost = max(steps/float64(b.MaxSteps), steps*e.RunSeconds/b.TotalTime.Seconds())
	g.Score = g.Expected * g.Chance / max(g.Cost, MinCost)
	g.Cost = round4(g.Cost)
	return g
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// tier orders ideas before their scores: 0 passes the guard with a valid
// forecast, 1 passes it without one, 2 fails the guard.
func tier(i Idea) int {
	switch {
	case i.Review == nil || i.Review.Validity.Score < MinGuard || i.Review.Feasibility.Score < MinGuard:
		return 2
	case i.Gain == nil:
		return 1
	}
	return 0
}

// rankByGain scores and orders ideas, best first (RankRule), numbers their
// ranks, and says why the first won. warn hears of each idea ranked by the
// criteria alone for want of a valid forecast.
func rankByGain(ideas []Idea, b Budget, warn func(string)) ([]Idea, string) {
	for i := range ideas {
		id := &ideas[i]
		id.Score = Score(id.Review, id.Novelty)
		id.Gain = nil
		if id.Review == nil {
			continue
		}
		if err := checkExpectation(id.Review.Expected, b); err != nil {
			warn(fmt.Sprintf("%s (%s) has no valid expected gain (%v): ranked by the review's criteria", id.ID, id.Title, err))
			continue
		}
		id.Gain = weigh(id.Review.Expected, b)
	}
	sort.SliceStable(ideas, func(i, j int) bool {
		a, c := ideas[i], ideas[j]
		if ta, tc := tier(a), tier(c); ta != tc {
			return ta < tc
		}
		if a.Gain != nil && c.Gain != nil && a.Gain.Score != c.Gain.Score {
			return a.Gain.Score > c.Gain.Score
		}
		return a.Score > c.Score
	})
	for i := range ideas {
		ideas[i].Rank = i + 1
	}
	return ideas, whyFirst(ideas, b)
}

// whyFirst says in one sentence why the first idea won the ranking.
func whyFirst(ideas []Idea, b Budget) string {
	if len(ideas) == 0 {
		return ""
	}
	first := ideas[0]
	if len(ideas) == 1 {
		return fmt.Sprintf("%s is the only idea", first.ID)
	}
	second := ideas[1]
	switch tier(first) {
	case 2:
		return fmt.Sprintf("no idea has validity and feasibility of at least %d: %s ranks first on the six criteria (score %.2f against %.2f)", MinGuard, first.ID, first.Score, second.Score)
	case 1:
		return fmt.Sprintf("no idea passing the guard has a valid expected gain: %s ranks first on the six criteria (score %.2f against %.2f)", first.ID, first.Score, second.Score)
	}
	g := first.Gain
	why := fmt.Sprintf("%s has the highest expected gain per unit of budget, %.4g (%s %+.4g × chance %.1f ÷ budget share %.2f)",
		first.ID, g.Score, orWords(b.Metric, "metric"), first.Review.Expected.Change, g.Chance, max(g.Cost, MinCost))
	switch {
	case second.Gain != nil && second.Gain.Score == g.Score:
		why += fmt.Sprintf(", tied with %s and ahead on the six criteria (%.2f against %.2f)", second.ID, first.Score, second.Score)
	case second.Gain != nil:
		why += fmt.Sprintf(", against %.4g for %s", second.Gain.Score, second.ID)
	case tier(second) == 2:
		why += fmt.Sprintf("; %s is below the guard (validity or feasibility under %d)", second.ID, MinGuard)
	default:
		why += fmt.Sprintf("; %s has no valid forecast", second.ID)
	}
	if first.Score == second.Score {
		why += fmt.Sprintf(" (the six criteria tie at %.2f)", first.Score)
	}
	if first.Score < second.Score {
		why += fmt.Sprintf(" (the criteria alone preferred %s, %.2f against %.2f)", second.ID, second.Score, first.Score)
	}
	return why
}

// gainText is an idea's forecast in one line: the change, risk, cost and
// score, or why there is none.
func gainText(i Idea) string {
	switch {
	case i.Review == nil:
		return "not reviewed"
	case i.Gain == nil:
		return "no valid forecast: ranked by the criteria"
	}
	e := i.Review.Expected
	return fmt.Sprintf("expected %+.4g (risk %s, %d steps × %.0f s, %.2f of the budget) → gain per budget %.4g", e.Change, e.Risk, e.Steps, e.RunSeconds, i.Gain.Cost, i.Gain.Score)
}

// Guarded says whether an idea passes the ranking's guard: validity and
// feasibility of at least MinGuard.
func Guarded(i Idea) bool { return tier(i) < 2 }
