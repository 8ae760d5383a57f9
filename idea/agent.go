package idea

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/template"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
)

//go:embed prompts/*.md
var prompts embed.FS

var tmpl = template.Must(template.ParseFS(prompts, "prompts/*.md"))

func render(name string, data any) string {
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Sprintf("idea: prompt %s: %v", name, err)) // templates are fixed: a bug
	}
	return b.String()
}

// Paper is what the IdeaAgent reads of a paper.
type Paper struct {
	ID       string
	Source   string
	Title    string
	Abstract string
	Sections []Section
	// Text is the paper's whole text, sent as written when it fits and the
	// paper is not a PDF (whose text is extracted line by line).
	Text string
	PDF  bool
}

// Section is a titled part of a paper.
type Section struct {
	Name string
	Text string
}

// Config is one IdeaAgent run.
type Config struct {
	Model  Model
	Papers []Paper
	// Task describes the task the ideas must be feasible in (problem,
	// metric, workspace files, limits); empty means no task.
	Task string
	// Budget is the task's metric, its direction and its limits: the
	// reviewer forecasts each idea's gain and cost against it, and ideas
	// are ranked by expected gain per unit of it (gain.go).
	Budget Budget
	// Memory lists what earlier runs on the same task and data tried and
	// how it scored, one line each; the proposer and the reviewer see it.
	Memory []string
	// Sources are searched for related work, in order; their hits are
	// fused. The novelty check searches them and Index, the local
	// literature index, when it is not among them (none at all: every
	// idea's novelty is unchecked).
	Sources []lit.Source
	Index   lit.Source
	// N is how many candidate ideas to generate (default 5).
	N int
	// Retries bounds the corrections of an invalid structured answer.
	Retries int
	// Works bounds how many retrieved works are given to the generator.
	Works int
	// PaperTokens is the papers' share of the model's context when the
	// elements are extracted (estimated at CharsPerToken characters a
	// token); 0 means DefaultPaperTokens. See PaperTokens.
	PaperTokens int
	// Feedback from a person on earlier ideas, for regeneration.
	Feedback []string
	// Step records each stage (optional): begin returns the function that
	// ends it with its output.
	Step func(ctx context.Context, kind string) func(output any, err error)
	// Warn is told each repair of an invalid answer (optional; the log
	// gets them too). The warnings are also kept in Result.Warnings.
	Warn func(msg string)
	Log  *slog.Logger

	warnings *[]string
}

// warn records a repair: the model's answer broke a rule and mlrc went on
// without the invalid part.
func (c *Config) warn(msg string) {
	c.Log.Warn("idea: " + msg)
	if c.Warn != nil {
		c.Warn(msg)
	}
	if c.warnings != nil {
		*c.warnings = append(*c.warnings, msg)
	}
}

func (c *Config) defaults() {
	if c.N <= 0 {
		c.N = 5
	}
	if c.Retries <= 0 {
		c.Retries = 2
	}
	if c.Works <= 0 {
		c.Works = 15
	}
	if c.PaperTokens <= 0 {
		c.PaperTokens = DefaultPaperTokens
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Step == nil {
		c.Step = func(context.Context, string) func(any, error) { return func(any, error) {} }
	}
}

// Generate runs the IdeaAgent: elements, retrieval, candidates, novelty,
// merging, review and ranking.
func Generate(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	if len(cfg.Papers) == 0 {
		return nil, fmt.Errorf("no papers: give at least one with --paper")
	}
	res := &Result{Schema: SchemaVersion}
	cfg.warnings = &res.Warnings
	for _, p := range cfg.Papers {
		res.Papers = append(res.Papers, PaperRef{ID: p.ID, Source: p.Source, Title: p.Title})
	}
	res.Feedback = cfg.Feedback

	end := cfg.Step(ctx, "elements")
	el, err := extractElements(ctx, cfg)
	end(el, err)
	if err != nil {
		return nil, fmt.Errorf("research elements: %w", err)
	}
	res.Elements = *el

	end = cfg.Step(ctx, "retrieve")
	res.Queries, err = queries(ctx, cfg, *el)
	if err == nil {
		res.Retrieved, res.Relevance, err = retrieve(ctx, cfg, *el, res.Queries)
	}
	end(map[string]any{"queries": res.Queries, "works": res.Retrieved, "relevance": res.Relevance}, err)
	if err != nil {
		return nil, fmt.Errorf("retrieve related work: %w", err)
	}

	end = cfg.Step(ctx, "generate")
	ideas, err := generate(ctx, cfg, res)
	end(ideas, err)
	if err != nil {
		return nil, fmt.Errorf("generate ideas: %w", err)
	}

	ideas = merge(ideas, 0.6)

	for i := range ideas {
		end = cfg.Step(ctx, "novelty")
		ideas[i].Novelty, err = novelty(ctx, cfg, ideas[i])
		end(map[string]any{"idea": ideas[i].ID, "novelty": ideas[i].Novelty}, err)
		if err != nil {
			return nil, fmt.Errorf("novelty check of %s: %w", ideas[i].ID, err)
		}
	}

	for i := range ideas {
		end = cfg.Step(ctx, "review")
		ideas[i].Review, err = review(ctx, cfg, ideas[i])
		end(map[string]any{"idea": ideas[i].ID, "review": ideas[i].Review}, err)
		if err != nil {
			return nil, fmt.Errorf("review %s: %w", ideas[i].ID, err)
		}
	}
	res.Ideas, res.Why = rankByGain(ideas, cfg.Budget, cfg.warn)
	res.Rule = RankRule
	return res, nil
}

func extractElements(ctx context.Context, cfg Config) (*Elements, error) {
	views := readPapers(cfg.Papers, cfg.PaperTokens*CharsPerToken)
	for _, v := range views {
		if len(v.Cut) > 0 {
			cfg.Log.Info("idea: paper cut to fit the context", "paper", v.ID, "cut", v.Cut)
		}
	}
	schema, err := schemaFor[Elements](func(s *jsonschema.Schema) {
		minItems(prop(s, "research_tasks"), 1)
		minItems(prop(s, "research_gaps"), 1)
		minItems(prop(s, "keywords"), 2)
		maxItems(prop(s, "keywords"), 10)
		for _, name := range []string{"research_tasks", "research_gaps", "keywords"} {
			minLength(prop(s, name).Items)
		}
	})
	if err != nil {
		return nil, err
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("elements.md", map[string]any{"Papers": views}))}}
	el, err := ask(ctx, cfg.Model, req, "research_elements", "Report the research elements of the papers.", schema, cfg.Retries, func(e *Elements) error {
		return errors.Join(checkElements(e)...)
	})
	if !errors.Is(err, ErrInvalidOutput) {
		return el, err
	}
	// Degrade: keep what is usable and fill the rest from the papers.
	cfg.warn(fmt.Sprintf("research elements: %v", err))
	if el == nil {
		el = &Elements{}
	}
	el.Tasks, el.Gaps, el.Keywords = nonEmpty(el.Tasks), nonEmpty(el.Gaps), nonEmpty(el.Keywords)
	if len(el.Tasks) == 0 {
		for _, p := range cfg.Papers {
			el.Tasks = append(el.Tasks, "the problem of "+orWords(p.Title, p.ID))
		}
		cfg.warn("research_tasks was empty: the papers' titles stand in as the research tasks")
	}
	if len(el.Gaps) == 0 {
		el.Gaps = []string{"the papers' methods are not compared with simple strong baselines on this task"}
		cfg.warn("research_gaps was empty: a generic gap (comparison with strong baselines) stands in")
	}
	if len(el.Keywords) < 2 {
		var text []string
		for _, p := range cfg.Papers {
			text = append(text, p.Title)
		}
		for _, w := range contentWords(strings.Join(text, " "), 6) {
			if !slices.Contains(el.Keywords, w) {
				el.Keywords = append(el.Keywords, w)
			}
		}
		cfg.warn(fmt.Sprintf("fewer than 2 keywords: using words of the papers' titles (%s)", strings.Join(el.Keywords, ", ")))
	}
	if len(el.Keywords) > 10 {
		el.Keywords = el.Keywords[:10]
	}
	return el, nil
}

// checkElements lists what is wrong with e beyond its schema.
func checkElements(e *Elements) []error {
	var errs []error
	switch {
	case len(nonEmpty(e.Tasks)) == 0:
		errs = append(errs, fmt.Errorf("research_tasks is empty: give at least one research task"))
	case len(nonEmpty(e.Gaps)) == 0:
		errs = append(errs, fmt.Errorf("research_gaps is empty: give at least one research gap"))
	case len(nonEmpty(e.Keywords)) < 2:
		errs = append(errs, fmt.Errorf("give at least 2 keywords, got %d", len(nonEmpty(e.Keywords))))
	}
	return errs
}

// nonEmpty is ss without blank entries.
func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func orWords(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return strings.TrimSpace(s)
}

// proposal is what the generator returns: only what the proposer decides.
// Ids, novelty, reviews, scores and ranks are added later.
type proposal struct {
	Ideas []proposed `json:"ideas"`
}

type proposed struct {
	Title      string     `json:"title" jsonschema:"a short title"`
	Problem    string     `json:"problem" jsonschema:"the problem addressed"`
	Rationale  string     `json:"rationale" jsonschema:"why the idea should work, grounded in the papers and related work"`
	Hypothesis string     `json:"hypothesis" jsonschema:"a falsifiable statement"`
	Method     string     `json:"method" jsonschema:"what is done, concretely"`
	Plan       Plan       `json:"experiment_plan"`
	BuildsOn   []citation `json:"builds_on" jsonschema:"retrieved works this idea builds on"`
}

// citation names a retrieved work by its key, "source:id", as listed.
type citation struct {
	Work string `json:"work" jsonschema:"the key of a retrieved work exactly as listed under Related work, source:id"`
	How  string `json:"how" jsonschema:"how the idea uses or departs from this work"`
}

// workKey is how the generator sees and cites a retrieved work.
func workKey(w lit.Work) string { return w.Source + ":" + w.ID }

// proposalSchema puts the proposer's rules into its schema: between 1 and n
// ideas, every text filled in, and citations drawn from the retrieved works'
// keys (an enum), at least one per idea when there are any.
func proposalSchema(n int, keys []string) (*jsonschema.Schema, error) {
	return schemaFor[proposal](func(s *jsonschema.Schema) {
		ideas := prop(s, "ideas")
		minItems(ideas, 1)
		maxItems(ideas, n)
		for _, name := range []string{"title", "problem", "rationale", "hypothesis", "method"} {
			minLength(prop(ideas, name))
		}
		for _, name := range []string{"datasets", "models", "baselines", "metrics", "steps"} {
			minItems(prop(ideas, "experiment_plan", name), 1)
		}
		minLength(prop(ideas, "experiment_plan", "success_criterion"))
		refs := prop(ideas, "builds_on")
		if len(keys) == 0 {
			maxItems(refs, 0)
			return
		}
		minItems(refs, 1)
		for _, k := range keys {
			refs.Items.Properties["work"].Enum = append(refs.Items.Properties["work"].Enum, k)
		}
	})
}

func generate(ctx context.Context, cfg Config, res *Result) ([]Idea, error) {
	known := map[string]lit.Work{}
	var keys []string
	for _, w := range res.Retrieved {
		if _, dup := known[workKey(w)]; !dup {
			known[workKey(w)] = w
			keys = append(keys, workKey(w))
		}
	}
	schema, err := proposalSchema(cfg.N, keys)
	if err != nil {
		return nil, err
	}
	prompt := render("ideas.md", map[string]any{
		"N": cfg.N, "Task": cfg.Task, "Papers": res.Papers, "Elements": res.Elements, "Works": res.Retrieved,
		"Feedback": strings.Join(cfg.Feedback, "\n"), "Memory": cfg.Memory,
	})
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(prompt)}}
	p, err := ask(ctx, cfg.Model, req, "propose_ideas", "Propose the research ideas.", schema, cfg.Retries, func(p *proposal) error {
		if len(p.Ideas) == 0 {
			return fmt.Errorf("ideas is empty: propose %d", cfg.N)
		}
		_, problems := repairProposal(p, known, keys)
		return errors.Join(problems...)
	})
	if err != nil && !errors.Is(err, ErrInvalidOutput) {
		return nil, err
	}
	var ideas []Idea
	if p != nil {
		var problems []error
		ideas, problems = repairProposal(p, known, keys)
		for _, e := range problems {
			cfg.warn("propose_ideas: " + e.Error())
		}
	}
	if err != nil {
		cfg.warn(fmt.Sprintf("propose_ideas: %v; keeping %d valid idea(s)", err, len(ideas)))
	}
	if len(ideas) == 0 {
		ideas = []Idea{fallbackIdea(res.Elements)}
		cfg.warn("no usable idea was proposed: the experiment falls back to improving the task's baseline on the first research task")
	}
	if len(ideas) > cfg.N {
		ideas = ideas[:cfg.N]
	}
	if len(ideas) < cfg.N {
		cfg.Log.Info("fewer ideas than asked", "got", len(ideas), "asked", cfg.N)
	}
	for i := range ideas {
		ideas[i].ID = fmt.Sprintf("idea-%d", i+1)
	}
	return ideas, nil
}

// repairProposal turns the proposed ideas into Ideas, keeping what is valid:
// an idea without a title or a hypothesis is dropped, a citation of a work
// that was not retrieved is dropped, and an idea left with no citation
// (when there were works to cite) is marked uncited. problems names each
// repair, with the valid values where there are some.
func repairProposal(p *proposal, known map[string]lit.Work, keys []string) ([]Idea, []error) {
	var ideas []Idea
	var problems []error
	for i, pi := range p.Ideas {
		if strings.TrimSpace(pi.Title) == "" || strings.TrimSpace(pi.Hypothesis) == "" {
			problems = append(problems, fmt.Errorf("idea %d has no title or no hypothesis: dropped", i+1))
			continue
		}
		idea := Idea{Title: pi.Title, Problem: pi.Problem, Rationale: pi.Rationale, Hypothesis: pi.Hypothesis, Method: pi.Method, Plan: pi.Plan}
		for _, c := range pi.BuildsOn {
			w, ok := known[strings.TrimSpace(c.Work)]
			if !ok {
				problems = append(problems, fmt.Errorf("idea %d (%s) cites %q, which is not among the retrieved works; valid citations: [%s]", i+1, pi.Title, c.Work, strings.Join(keys, ", ")))
				continue
			}
			if !cites(idea.BuildsOn, Ref{ID: w.ID, Source: w.Source}) {
				idea.BuildsOn = append(idea.BuildsOn, Ref{ID: w.ID, Source: w.Source, Title: w.Title, How: c.How})
			}
		}
		if len(idea.BuildsOn) == 0 && len(known) > 0 {
			idea.Uncited = true
			problems = append(problems, fmt.Errorf("idea %d (%s) cites no retrieved work: it is marked uncited; cite at least one of [%s]", i+1, pi.Title, strings.Join(keys, ", ")))
		}
		ideas = append(ideas, idea)
	}
	return ideas, problems
}

// fallbackIdea is the idea tested when the model proposed none that could be
// used: improve on the task's baseline for the first research task. It
// cites nothing and says so.
func fallbackIdea(el Elements) Idea {
	taskText := "the task"
	if len(el.Tasks) > 0 {
		taskText = el.Tasks[0]
	}
	gap := "the baseline leaves room for improvement"
	if len(el.Gaps) > 0 {
		gap = el.Gaps[0]
	}
	return Idea{
		Title:      "Improve on the baseline: " + clip(taskText, 120),
		Problem:    gap,
		Rationale:  "No usable idea was proposed by the model; this is mlrc's fallback, grounded in the first research task and gap.",
		Hypothesis: "A better-tuned or stronger standard method improves the task's metric over the baseline.",
		Method:     "Tune the baseline's model and features, then try a stronger standard model, keeping the evaluation unchanged.",
		Plan: Plan{Datasets: []string{"the task's workspace data"}, Models: []string{"the baseline's model, tuned", "a stronger standard model"},
			Baselines: []string{"the task's baseline"}, Metrics: []string{"the task's metric"}, Ablations: []string{"tuning alone versus the model change"},
			Steps:            []string{"run the baseline", "tune its main hyperparameters", "try a stronger standard model", "keep the best"},
			SuccessCriterion: "the task's metric better than the baseline's", Compute: "within the task's limits"},
		Uncited:  true,
		Fallback: true,
	}
}

// reviewSchema puts the reviewer's rules into its schema: every score an
// integer from 1 to 5, every reason filled in, and the forecast of gain,
// risk and cost within the task's limits (shapeExpectation).
func reviewSchema(b Budget) (*jsonschema.Schema, error) {
	return schemaFor[Review](func(s *jsonschema.Schema) {
		for _, c := range Criteria {
			bounds(prop(s, c, "score"), 1, 5)
			minLength(prop(s, c, "reason"))
		}
		s.Required = append(s.Required, "expected")
		shapeExpectation(s, b)
	})
}

func review(ctx context.Context, cfg Config, idea Idea) (*Review, error) {
	shown := idea
	shown.Novelty, shown.Review = nil, nil
	text, _ := json.MarshalIndent(shown, "", "  ")
	schema, err := reviewSchema(cfg.Budget)
	if err != nil {
		return nil, err
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("review.md", map[string]any{
		"Idea": string(text), "Novelty": idea.Novelty, "Task": cfg.Task, "Metric": cfg.Budget.metricText(), "Memory": cfg.Memory,
	}))}}
	r, err := ask(ctx, cfg.Model, req, "review_idea", "Give your review of the idea.", schema, cfg.Retries, func(r *Review) error {
		_, problems := repairReview(*r)
		return errors.Join(append(problems, checkExpectation(r.Expected, cfg.Budget))...)
	})
	if !errors.Is(err, ErrInvalidOutput) {
		return r, err
	}
	if r == nil {
		cfg.warn(fmt.Sprintf("review %s: %v; the idea is left unreviewed (score 0)", idea.ID, err))
		return nil, nil
	}
	fixed, problems := repairReview(*r)
	for _, e := range problems {
		cfg.warn(fmt.Sprintf("review %s: %v", idea.ID, e))
	}
	// An invalid forecast is dropped; the ranking says so and ranks the
	// idea by its criteria.
	if checkExpectation(fixed.Expected, cfg.Budget) != nil {
		fixed.Expected = nil
	}
	return &fixed, nil
}

// repairReview clamps scores into 1..5 and fills missing reasons, naming
// each repair.
func repairReview(r Review) (Review, []error) {
	var problems []error
	js := []*Judgement{&r.Clarity, &r.Validity, &r.Rigor, &r.Innovativeness, &r.Generalizability, &r.Feasibility}
	for i, j := range js {
		if j.Score < 1 || j.Score > 5 {
			c := min(5, max(1, j.Score))
			problems = append(problems, fmt.Errorf("%s score %d is outside 1..5 (valid: 1, 2, 3, 4, 5): clamped to %d", Criteria[i], j.Score, c))
			j.Score = c
		}
		if strings.TrimSpace(j.Reason) == "" {
			problems = append(problems, fmt.Errorf("%s has no reason: give one", Criteria[i]))
			j.Reason = "(no reason given)"
		}
	}
	return r, problems
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + " […]"
}
