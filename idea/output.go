package idea

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Write saves ideas.json and ideas.md in dir.
func Write(dir string, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ideas.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "ideas.md"), []byte(Markdown(res)), 0o644)
}

// Read loads an ideas.json.
func Read(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s is not an ideas.json: %w", path, err)
	}
	if res.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s has schema %q; this mlrc reads %q", path, res.Schema, SchemaVersion)
	}
	return &res, nil
}

// Ranking is the ranked list, one block per idea, for the terminal.
func Ranking(res *Result) string {
	var b strings.Builder
	for _, i := range res.Ideas {
		b.WriteString(describe(i))
	}
	if res.Why != "" {
		fmt.Fprintf(&b, "why the first: %s\n", res.Why)
	}
	return b.String()
}

// Markdown renders the result for people.
func Markdown(res *Result) string {
	var b strings.Builder
	b.WriteString("# Research ideas\n\n## Papers\n\n")
	for _, p := range res.Papers {
		fmt.Fprintf(&b, "- %s — %s\n", p.ID, p.Title)
	}
	if res.Task != "" {
		fmt.Fprintf(&b, "\nTask: %s\n", res.Task)
	}
	b.WriteString("\n## Research elements\n\n**Tasks**\n\n")
	list(&b, res.Elements.Tasks)
	b.WriteString("\n**Gaps**\n\n")
	list(&b, res.Elements.Gaps)
	fmt.Fprintf(&b, "\n**Keywords:** %s\n\n## Ranking\n\n| rank | idea | expected change | risk | steps | gain per budget | score | novelty | feasibility |\n|---|---|---|---|---|---|---|---|---|\n", strings.Join(res.Elements.Keywords, ", "))
	for _, i := range res.Ideas {
		nov, feas := "–", "–"
		if i.Novelty != nil && i.Novelty.Decision != "" {
			nov = i.Novelty.Decision
		}
		if i.Review != nil {
			feas = fmt.Sprint(i.Review.Feasibility.Score)
		}
		exp, risk, steps, gain := "–", "–", "–", "–"
		if i.Review != nil && i.Review.Expected != nil {
			e := i.Review.Expected
			exp, risk, steps = fmt.Sprintf("%+.4g", e.Change), e.Risk, fmt.Sprint(e.Steps)
		}
		if i.Gain != nil {
			gain = fmt.Sprintf("%.4g", i.Gain.Score)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %.2f | %s | %s |\n", i.Rank, i.Title, exp, risk, steps, gain, i.Score, nov, feas)
	}
	if res.Rule != "" {
		fmt.Fprintf(&b, "\n**Ranking rule:** %s.\n", res.Rule)
	}
	if res.Why != "" {
		fmt.Fprintf(&b, "\n**Why the first:** %s.\n", res.Why)
	}
	for _, i := range res.Ideas {
		fmt.Fprintf(&b, "\n## %d. %s\n\n", i.Rank, i.Title)
		fmt.Fprintf(&b, "- **Problem:** %s\n- **Hypothesis:** %s\n- **Rationale:** %s\n- **Method:** %s\n", i.Problem, i.Hypothesis, i.Rationale, i.Method)
		p := i.Plan
		fmt.Fprintf(&b, "\n**Experiment plan**\n\n- Datasets: %s\n- Models: %s\n- Baselines: %s\n- Metrics: %s\n- Ablations: %s\n- Success criterion: %s\n- Compute: %s\n",
			strings.Join(p.Datasets, "; "), strings.Join(p.Models, "; "), strings.Join(p.Baselines, "; "), strings.Join(p.Metrics, "; "),
			strings.Join(p.Ablations, "; "), p.SuccessCriterion, p.Compute)
		if len(p.Steps) > 0 {
			b.WriteString("\nSteps:\n\n")
			for n, s := range p.Steps {
				fmt.Fprintf(&b, "%d. %s\n", n+1, s)
			}
		}
		b.WriteString("\n**Builds on**\n\n")
		for _, r := range i.BuildsOn {
			fmt.Fprintf(&b, "- %s:%s — %s: %s\n", r.Source, r.ID, r.Title, r.How)
		}
		if i.Fallback {
			b.WriteString("- (mlrc's fallback idea: the model proposed none that could be used)\n")
		} else if i.Uncited {
			b.WriteString("- **uncited**: the idea cites none of the retrieved works; its claims rest on the papers alone\n")
		}
		if i.Novelty != nil && i.Novelty.Decision != "" {
			b.WriteString(NoveltyMarkdown(i.Novelty))
		}
		if r := i.Review; r != nil {
			b.WriteString("\n**Review**\n\n| criterion | score | reason |\n|---|---|---|\n")
			for n, j := range r.judgements() {
				fmt.Fprintf(&b, "| %s | %d | %s |\n", Criteria[n], j.Score, strings.ReplaceAll(j.Reason, "|", "/"))
			}
			fmt.Fprintf(&b, "\n%s\n", r.Summary)
			if e := r.Expected; e != nil {
				fmt.Fprintf(&b, "\n**Forecast:** %s. %s\n", gainText(i), e.Justification)
			}
		}
		if len(i.MergedFrom) > 0 {
			fmt.Fprintf(&b, "\nMerged with near-duplicates: %s\n", strings.Join(i.MergedFrom, ", "))
		}
	}
	if len(res.Warnings) > 0 {
		b.WriteString("\n## Warnings\n\nParts of the model's answers broke a rule and were repaired or dropped:\n\n")
		list(&b, res.Warnings)
	}
	fmt.Fprintf(&b, "\n## Retrieved related work\n\nQueries: %s\n\n", strings.Join(res.Queries, "; "))
	for _, w := range res.Retrieved {
		fmt.Fprintf(&b, "- %s:%s (%d) — %s\n", w.Source, w.ID, w.Year, w.Title)
	}
	var dropped []Relevance
	for _, r := range res.Relevance {
		if !r.Relevant {
			dropped = append(dropped, r)
		}
	}
	if len(dropped) > 0 {
		b.WriteString("\nJudged off-topic and not shown to the proposer:\n\n")
		for _, r := range dropped {
			fmt.Fprintf(&b, "- %s — %s: %s\n", r.Work, r.Title, r.Reason)
		}
	}
	return b.String()
}

// NoveltyMarkdown renders a novelty check: the decision and its reason,
// the closest works, and each round's queries and hits.
func NoveltyMarkdown(n *Novelty) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n**Novelty check: %s.** %s\n", n.Decision, n.Reason)
	if len(n.Closest) > 0 {
		b.WriteString("\nClosest prior work:\n\n")
		for _, c := range n.Closest {
			fmt.Fprintf(&b, "- %s:%s — %s: %s\n", c.Work.Source, c.Work.ID, c.Work.Title, c.How)
		}
	}
	for r, round := range n.Rounds {
		fmt.Fprintf(&b, "\nRound %d, searched: %s — %d new work(s)", r+1, strings.Join(round.Queries, "; "), len(round.Hits))
		if len(round.Hits) > 0 {
			b.WriteString(":\n\n")
			for _, w := range round.Hits {
				fmt.Fprintf(&b, "- %s:%s — %s\n", w.Source, w.ID, w.Title)
			}
		} else {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func list(b *strings.Builder, items []string) {
	for _, s := range items {
		fmt.Fprintf(b, "- %s\n", s)
	}
}

// PlanText is an idea as the research plan the ExperimentAgent implements.
func PlanText(i Idea) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\nProblem: %s\n\nHypothesis: %s\n\nRationale: %s\n\nMethod: %s\n\n", i.Title, i.Problem, i.Hypothesis, i.Rationale, i.Method)
	p := i.Plan
	fmt.Fprintf(&b, "Experiment plan:\n- Datasets: %s\n- Models: %s\n- Baselines: %s\n- Metrics: %s\n- Ablations: %s\n- Success criterion: %s\n- Compute: %s\n",
		strings.Join(p.Datasets, "; "), strings.Join(p.Models, "; "), strings.Join(p.Baselines, "; "), strings.Join(p.Metrics, "; "),
		strings.Join(p.Ablations, "; "), p.SuccessCriterion, p.Compute)
	for n, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s\n", n+1, s)
	}
	return b.String()
}
