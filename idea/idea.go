// Package idea is the IdeaAgent: from papers to ranked, feasible research
// hypotheses with experiment plans. It extracts research elements (tasks,
// gaps, keywords) as validated structured output, retrieves related work
// from the literature (keeping each work's provenance), proposes typed
// candidate ideas that cite what they build on, checks their novelty
// against the literature index, merges near-duplicates, has a reviewer
// score them, and ranks them.
//
// The result is written as ideas.json (schema: docs/IDEAS.md) and ideas.md.
package idea

import "github.com/mlrc/mlrc/lit"

// Elements are what a paper contributes to the research: the tasks it
// addresses, the gaps it leaves, its keywords.
type Elements struct {
	Tasks    []string `json:"research_tasks" jsonschema:"the research tasks the papers address, one sentence each"`
	Gaps     []string `json:"research_gaps" jsonschema:"limitations or open problems the papers leave, one sentence each"`
	Keywords []string `json:"keywords" jsonschema:"5 to 10 search keywords or short phrases for finding related work"`
}

// Plan is how an idea is tested.
type Plan struct {
	Datasets         []string `json:"datasets" jsonschema:"data used; with a task only the task's workspace data"`
	Models           []string `json:"models" jsonschema:"models or methods to implement"`
	Baselines        []string `json:"baselines" jsonschema:"what the idea is compared with"`
	Metrics          []string `json:"metrics" jsonschema:"how results are measured"`
	Ablations        []string `json:"ablations" jsonschema:"parts removed or varied to show what matters"`
	Steps            []string `json:"steps" jsonschema:"the implementation steps in order"`
	SuccessCriterion string   `json:"success_criterion" jsonschema:"a measurable condition, e.g. 'test accuracy at least 1 point above the baseline'"`
	Compute          string   `json:"compute_estimate" jsonschema:"expected compute, e.g. '10 CPU-minutes, 2 GiB'"`
}

// Ref is a retrieved work an idea builds on, with its provenance.
type Ref struct {
	ID     string `json:"id" jsonschema:"the id of a retrieved work, exactly as listed"`
	Source string `json:"source" jsonschema:"the source of that work, exactly as listed"`
	Title  string `json:"title,omitempty"`
	How    string `json:"how" jsonschema:"how the idea uses or departs from this work"`
}

// Idea is one research hypothesis with its plan.
type Idea struct {
	ID         string `json:"id"`
	Title      string `json:"title" jsonschema:"a short title"`
	Problem    string `json:"problem" jsonschema:"the problem addressed"`
	Rationale  string `json:"rationale" jsonschema:"why the idea should work, grounded in the papers and related work"`
	Hypothesis string `json:"hypothesis" jsonschema:"a falsifiable statement"`
	Method     string `json:"method" jsonschema:"what is done, concretely"`
	Plan       Plan   `json:"experiment_plan"`
	BuildsOn   []Ref  `json:"builds_on" jsonschema:"retrieved works this idea builds on (at least one)"`

	Novelty *Novelty `json:"novelty,omitempty"`
	Review  *Review  `json:"review,omitempty"`
	Score   float64  `json:"score"`
	// Gain weighs the review's forecast against the task's budget; nil
	// when the review has no valid forecast (the idea is then ranked by
	// its criteria).
	Gain       *Gain    `json:"gain,omitempty"`
	Rank       int      `json:"rank"`
	MergedFrom []string `json:"merged_from,omitempty"`
	// Uncited marks an idea that cites none of the retrieved works although
	// there were some: its claims rest on the papers alone.
	Uncited bool `json:"uncited,omitempty"`
	// Fallback marks mlrc's own idea, used when the model proposed none
	// that could be used.
	Fallback bool `json:"fallback,omitempty"`
}

// Criteria are what the reviewer scores, from MLR-Copilot's review plus
// feasibility.
var Criteria = []string{"clarity", "validity", "rigor", "innovativeness", "generalizability", "feasibility"}

// Review is the reviewer's verdict on one idea: 1 (poor) to 5 (excellent)
// on each criterion, each with its reason.
type Review struct {
	Clarity          Judgement `json:"clarity"`
	Validity         Judgement `json:"validity"`
	Rigor            Judgement `json:"rigor"`
	Innovativeness   Judgement `json:"innovativeness"`
	Generalizability Judgement `json:"generalizability"`
	Feasibility      Judgement `json:"feasibility"`
	Summary          string    `json:"summary" jsonschema:"two sentences: the idea's main strength and weakness"`
	// Expected is the reviewer's forecast of the gain, risk and cost (see
	// gain.go); nil in reviews written before it was asked for.
	Expected *Expectation `json:"expected,omitempty"`
}

// Judgement is one criterion's score and reason.
type Judgement struct {
	Score  int    `json:"score" jsonschema:"1 (poor) to 5 (excellent)"`
	Reason string `json:"reason"`
}

func (r *Review) judgements() []Judgement {
	return []Judgement{r.Clarity, r.Validity, r.Rigor, r.Innovativeness, r.Generalizability, r.Feasibility}
}

// PaperRef names an input paper.
type PaperRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Title  string `json:"title"`
}

// Result is everything the IdeaAgent produced; it is ideas.json.
type Result struct {
	Schema    string     `json:"schema"` // "mlrc.ideas/v1"
	Papers    []PaperRef `json:"papers"`
	Task      string     `json:"task,omitempty"`
	Model     string     `json:"model,omitempty"`
	Elements  Elements   `json:"elements"`
	Queries   []string   `json:"queries"`
	Retrieved []lit.Work `json:"retrieved"`
	// Relevance is the model's verdict on each work the searches found,
	// in retrieval order: the relevant ones are Retrieved. Empty when no
	// work was found, or when the verdicts were invalid (then Retrieved is
	// the retrieval order and a warning says so).
	Relevance []Relevance `json:"relevance,omitempty"`
	// Ideas are ranked, best first.
	Ideas []Idea `json:"ideas"`
	// Rule is how the ideas were ranked (RankRule); Why says why the
	// first one was chosen.
	Rule string `json:"rule,omitempty"`
	Why  string `json:"why,omitempty"`
	// Feedback is what the person said at the gate, in order.
	Feedback []string `json:"feedback,omitempty"`
	// Warnings name what went wrong without ending the run: each part of
	// the model's answers that broke a rule and was dropped or repaired,
	// and failed literature searches.
	Warnings []string `json:"warnings,omitempty"`
}

// SchemaVersion names the ideas.json format.
const SchemaVersion = "mlrc.ideas/v1"
