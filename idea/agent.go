package idea

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"text/template"

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
	// Sources are searched for related work, in order; their hits are
	// merged. Index is the local literature index, also used for the
	// novelty check (nil: no novelty check).
	Sources []lit.Source
	Index   lit.Source
	// N is how many candidate ideas to generate (default 5).
	N int
	// Retries bounds the corrections of an invalid structured answer.
	Retries int
	// Works bounds how many retrieved works are given to the generator.
	Works int
	// Feedback from a person on earlier ideas, for regeneration.
	Feedback []string
	// Step records each stage (optional): begin returns the function that
	// ends it with its output.
	Step func(ctx context.Context, kind string) func(output any, err error)
	Log  *slog.Logger
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
	res.Queries = queries(*el)
	res.Retrieved, err = retrieve(ctx, cfg, res.Queries)
	end(map[string]any{"queries": res.Queries, "works": res.Retrieved}, err)
	if err != nil {
		return nil, err
	}

	end = cfg.Step(ctx, "generate")
	ideas, err := generate(ctx, cfg, res)
	end(ideas, err)
	if err != nil {
		return nil, fmt.Errorf("generate ideas: %w", err)
	}

	end = cfg.Step(ctx, "novelty")
	for i := range ideas {
		ideas[i].Novelty, err = novelty(ctx, cfg.Index, ideas[i])
		if err != nil {
			break
		}
	}
	ideas = merge(ideas, 0.6)
	end(ideas, err)
	if err != nil {
		return nil, fmt.Errorf("novelty check: %w", err)
	}

	for i := range ideas {
		end = cfg.Step(ctx, "review")
		ideas[i].Review, err = review(ctx, cfg, ideas[i])
		end(map[string]any{"idea": ideas[i].ID, "review": ideas[i].Review}, err)
		if err != nil {
			return nil, fmt.Errorf("review %s: %w", ideas[i].ID, err)
		}
	}
	res.Ideas = rank(ideas)
	return res, nil
}

// maxPaperChars bounds how much of each paper the model reads.
const maxPaperChars = 16000

func extractElements(ctx context.Context, cfg Config) (*Elements, error) {
	type paperView struct {
		ID, Title, Abstract string
		Sections            []Section
	}
	var views []paperView
	for _, p := range cfg.Papers {
		v := paperView{ID: p.ID, Title: p.Title, Abstract: clip(p.Abstract, 3000)}
		budget := maxPaperChars / max(1, len(cfg.Papers))
		for _, s := range p.Sections {
			if budget <= 0 || !useful(s.Name) {
				continue
			}
			text := clip(s.Text, min(2500, budget))
			budget -= len(text)
			v.Sections = append(v.Sections, Section{Name: s.Name, Text: text})
		}
		views = append(views, v)
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("elements.md", map[string]any{"Papers": views}))}}
	return ask(ctx, cfg.Model, req, "research_elements", "Report the research elements of the papers.", cfg.Retries, func(e *Elements) error {
		switch {
		case len(e.Tasks) == 0:
			return fmt.Errorf("research_tasks is empty")
		case len(e.Gaps) == 0:
			return fmt.Errorf("research_gaps is empty")
		case len(e.Keywords) < 2:
			return fmt.Errorf("give at least 2 keywords, got %d", len(e.Keywords))
		}
		return nil
	})
}

// useful says whether a section helps find research elements.
func useful(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"intro", "related", "background", "method", "approach", "experiment", "result", "discussion", "conclusion", "limitation", "future"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// queries builds literature queries from the keywords and the gaps.
func queries(el Elements) []string {
	var qs []string
	seen := map[string]bool{}
	add := func(q string) {
		q = strings.TrimSpace(q)
		if q != "" && !seen[strings.ToLower(q)] {
			seen[strings.ToLower(q)] = true
			qs = append(qs, q)
		}
	}
	for _, k := range el.Keywords {
		add(k)
	}
	for _, g := range el.Gaps {
		add(strings.Join(contentWords(g, 8), " "))
	}
	return qs
}

// retrieve asks every source for every query and keeps the works that rank
// best across them, each once, with their provenance.
func retrieve(ctx context.Context, cfg Config, qs []string) ([]lit.Work, error) {
	type acc struct {
		work  lit.Work
		score float64
	}
	byKey := map[string]*acc{}
	var order []string
	var errs []string
	for _, src := range cfg.Sources {
		for _, q := range qs {
			hits, err := src.Search(ctx, q, 8)
			if err != nil {
				errs = append(errs, err.Error())
				cfg.Log.Warn("literature search failed", "query", q, "err", err)
				continue
			}
			for _, h := range hits {
				key := h.Work.Source + ":" + h.Work.ID
				a, ok := byKey[key]
				if !ok {
					a = &acc{work: h.Work}
					byKey[key] = a
					order = append(order, key)
				}
				a.score += 1 / float64(60+h.Rank) // reciprocal rank fusion
			}
		}
	}
	if len(byKey) == 0 && len(errs) > 0 {
		// Ideas can still be made from the papers alone; the result says
		// that no related work was found.
		cfg.Log.Warn("no related work retrieved: every search failed", "errors", strings.Join(errs[:min(3, len(errs))], "; "))
	}
	works := make([]*acc, 0, len(order))
	for _, k := range order {
		works = append(works, byKey[k])
	}
	sortStable(works, func(a, b *acc) bool { return a.score > b.score })
	var out []lit.Work
	for _, a := range works[:min(cfg.Works, len(works))] {
		w := a.work
		w.Abstract = clip(w.Abstract, 600)
		out = append(out, w)
	}
	return out, nil
}

// proposal is what the generator returns.
type proposal struct {
	Ideas []Idea `json:"ideas"`
}

func generate(ctx context.Context, cfg Config, res *Result) ([]Idea, error) {
	known := map[string]lit.Work{}
	for _, w := range res.Retrieved {
		known[w.Source+":"+w.ID] = w
	}
	prompt := render("ideas.md", map[string]any{
		"N": cfg.N, "Task": cfg.Task, "Papers": res.Papers, "Elements": res.Elements, "Works": res.Retrieved,
		"Feedback": strings.Join(cfg.Feedback, "\n"),
	})
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(prompt)}}
	p, err := ask(ctx, cfg.Model, req, "propose_ideas", "Propose the research ideas.", cfg.Retries, func(p *proposal) error {
		if len(p.Ideas) == 0 {
			return fmt.Errorf("ideas is empty: propose %d", cfg.N)
		}
		for i, idea := range p.Ideas {
			if strings.TrimSpace(idea.Title) == "" || strings.TrimSpace(idea.Hypothesis) == "" {
				return fmt.Errorf("idea %d has no title or no hypothesis", i+1)
			}
			if len(idea.BuildsOn) == 0 && len(known) > 0 {
				return fmt.Errorf("idea %d (%s) cites no retrieved work in builds_on", i+1, idea.Title)
			}
			for _, r := range idea.BuildsOn {
				if _, ok := known[r.Source+":"+r.ID]; !ok {
					return fmt.Errorf("idea %d (%s) cites id %q from source %q, which is not among the retrieved works: cite only ids listed under Related work", i+1, idea.Title, r.ID, r.Source)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ideas := p.Ideas
	for i := range ideas {
		ideas[i].ID = fmt.Sprintf("idea-%d", i+1)
		ideas[i].Score, ideas[i].Rank, ideas[i].Review, ideas[i].Novelty = 0, 0, nil, nil
		for j, r := range ideas[i].BuildsOn {
			ideas[i].BuildsOn[j].Title = known[r.Source+":"+r.ID].Title
		}
	}
	return ideas, nil
}

func review(ctx context.Context, cfg Config, idea Idea) (*Review, error) {
	shown := idea
	shown.Novelty, shown.Review = nil, nil
	text, _ := json.MarshalIndent(shown, "", "  ")
	var closest []Closest
	if idea.Novelty != nil {
		closest = idea.Novelty.Closest
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("review.md", map[string]any{
		"Idea": string(text), "Closest": closest, "Task": cfg.Task,
	}))}}
	return ask(ctx, cfg.Model, req, "review_idea", "Give your review of the idea.", cfg.Retries, func(r *Review) error {
		for i, j := range r.judgements() {
			if j.Score < 1 || j.Score > 5 {
				return fmt.Errorf("%s score %d is outside 1..5", Criteria[i], j.Score)
			}
			if strings.TrimSpace(j.Reason) == "" {
				return fmt.Errorf("%s has no reason", Criteria[i])
			}
		}
		return nil
	})
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
