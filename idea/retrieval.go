package idea

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
)

// Retrieval bounds.
const (
	// maxQueries bounds the literature queries of the idea phase.
	maxQueries = 12
	// maxQueryWords bounds a query written by the model: a short phrase.
	maxQueryWords = 8
	// perQuery is how many hits each source gives for each query; keepPerQuery
	// of them are sure to reach the relevance judge.
	perQuery, keepPerQuery = 8, 2
)

// Relevance is the model's verdict on one retrieved work: whether it is
// on the topic of the papers and the task. Off-topic works are not shown
// to the proposer.
type Relevance struct {
	Work     string `json:"work"` // source:id
	Title    string `json:"title"`
	Relevant bool   `json:"relevant"`
	Reason   string `json:"reason"`
}

// searchPlan is the model's literature queries.
type searchPlan struct {
	Queries []string `json:"queries" jsonschema:"short search phrases (2 to 8 words each), combining the papers' methods with the task's data, problem and metric"`
}

// queries builds the literature queries: the model's short phrases from the
// keywords and the task, then the keywords themselves, each once. With no
// source to search the model is not asked. An invalid answer leaves the
// keywords alone, with a warning.
func queries(ctx context.Context, cfg Config, el Elements) ([]string, error) {
	var qs []string
	seen := map[string]bool{}
	add := func(q string) {
		q = strings.Join(strings.Fields(q), " ")
		if q != "" && !seen[strings.ToLower(q)] && len(qs) < maxQueries {
			seen[strings.ToLower(q)] = true
			qs = append(qs, q)
		}
	}
	if len(cfg.Sources) > 0 {
		plan, err := planSearch(ctx, cfg, el)
		if err != nil {
			return nil, err
		}
		for _, q := range plan {
			add(q)
		}
	}
	for _, k := range el.Keywords {
		if len(strings.Fields(k)) <= maxQueryWords {
			add(k)
		}
	}
	return qs, nil
}

func planSearch(ctx context.Context, cfg Config, el Elements) ([]string, error) {
	schema, err := schemaFor[searchPlan](func(s *jsonschema.Schema) {
		q := prop(s, "queries")
		minItems(q, 2)
		maxItems(q, 8)
		minLength(q.Items)
		n := 80
		q.Items.MaxLength = &n
	})
	if err != nil {
		return nil, err
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("queries.md", map[string]any{
		"Task": cfg.Task, "Elements": el,
	}))}}
	p, err := ask(ctx, cfg.Model, req, "search_queries", "Give the literature search queries.", schema, cfg.Retries, func(p *searchPlan) error {
		return errors.Join(checkQueries(p.Queries)...)
	})
	if err == nil {
		return p.Queries, nil
	}
	if !errors.Is(err, ErrInvalidOutput) {
		return nil, err
	}
	var kept []string
	if p != nil {
		for _, q := range p.Queries {
			if len(checkQueries([]string{q})) == 0 {
				kept = append(kept, q)
			}
		}
	}
	cfg.warn(fmt.Sprintf("search_queries: %v; searching with the keywords and the %d valid queries", err, len(kept)))
	return kept, nil
}

// checkQueries names the queries that are not short phrases.
func checkQueries(qs []string) []error {
	var errs []error
	for _, q := range qs {
		if n := len(strings.Fields(q)); n == 0 || n > maxQueryWords {
			errs = append(errs, fmt.Errorf("query %q has %d words: write short phrases of 2 to %d words", q, n, maxQueryWords))
		}
	}
	return errs
}

// retrieve asks every source for every query and fuses the hits so that
// each query's first hits survive (lit.Fuse), then lets the model drop
// the off-topic works. It returns the works for the proposer, at most
// cfg.Works, and the verdicts.
func retrieve(ctx context.Context, cfg Config, el Elements, qs []string) ([]lit.Work, []Relevance, error) {
	var lists [][]lit.Hit
	failed := 0
	for i, src := range cfg.Sources {
		// One warning per source, not one per query.
		var first error
		n := 0
		for _, q := range qs {
			hits, err := src.Search(ctx, q, perQuery)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				if first == nil {
					first = err
				}
				n++
				continue
			}
			lists = append(lists, hits)
		}
		if first != nil {
			failed++
			cfg.warn(fmt.Sprintf("literature source %d: %d of %d searches failed, e.g. %s", i+1, n, len(qs), clip(first.Error(), 300)))
		}
	}
	// The judge sees up to twice as many works as the proposer will.
	fused := lit.Fuse(lists, keepPerQuery, 2*cfg.Works)
	if len(fused) == 0 {
		if failed > 0 {
			// Ideas can still be made from the papers alone; the result says
			// that no related work was found.
			cfg.warn("no related work retrieved: the ideas rest on the papers alone")
		}
		return nil, nil, nil
	}
	var candidates []lit.Work
	for _, h := range fused {
		w := h.Work
		w.Abstract = clip(w.Abstract, 600)
		candidates = append(candidates, w)
	}
	verdicts, err := judgeRelevance(ctx, cfg, el, candidates)
	if err != nil {
		return nil, nil, err
	}
	var out []lit.Work
	for i, w := range candidates {
		if verdicts == nil || verdicts[i].Relevant {
			out = append(out, w)
		}
	}
	if verdicts != nil && len(out) == 0 {
		cfg.warn(fmt.Sprintf("none of the %d retrieved works was judged relevant: the ideas rest on the papers alone", len(candidates)))
	}
	return out[:min(cfg.Works, len(out))], verdicts, nil
}

// relevanceAnswer is the judge's answer: one verdict per candidate.
type relevanceAnswer struct {
	Verdicts []relevanceVerdict `json:"verdicts"`
}

type relevanceVerdict struct {
	Work     string `json:"work" jsonschema:"the key of a retrieved work exactly as listed, source:id"`
	Relevant bool   `json:"relevant" jsonschema:"true when the work is on the topic of the papers and the task, so the proposer should read it"`
	Reason   string `json:"reason" jsonschema:"a few words: why it is or is not on the topic"`
}

// judgeRelevance asks the model which candidates are on the topic. The
// verdicts are in the candidates' order; nil when the answer stayed
// invalid (every candidate is kept, in retrieval order, with a warning).
func judgeRelevance(ctx context.Context, cfg Config, el Elements, candidates []lit.Work) ([]Relevance, error) {
	var keys []string
	for _, w := range candidates {
		keys = append(keys, workKey(w))
	}
	schema, err := schemaFor[relevanceAnswer](func(s *jsonschema.Schema) {
		v := prop(s, "verdicts")
		minItems(v, len(keys))
		maxItems(v, len(keys))
		for _, k := range keys {
			v.Items.Properties["work"].Enum = append(v.Items.Properties["work"].Enum, k)
		}
	})
	if err != nil {
		return nil, err
	}
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("relevance.md", map[string]any{
		"Task": cfg.Task, "Papers": cfg.Papers, "Elements": el, "Works": candidates,
	}))}}
	a, err := ask(ctx, cfg.Model, req, "judge_relevance", "Judge each retrieved work's relevance.", schema, cfg.Retries, func(a *relevanceAnswer) error {
		_, problems := verdictsFor(a, keys)
		return errors.Join(problems...)
	})
	if errors.Is(err, ErrInvalidOutput) {
		cfg.warn(fmt.Sprintf("judge_relevance: %v; every retrieved work is kept, in retrieval order", err))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	byKey, _ := verdictsFor(a, keys)
	out := make([]Relevance, len(candidates))
	for i, w := range candidates {
		v := byKey[keys[i]]
		out[i] = Relevance{Work: keys[i], Title: w.Title, Relevant: v.Relevant, Reason: v.Reason}
	}
	return out, nil
}

// verdictsFor indexes the verdicts by work; problems name the works judged
// twice, unknown or not judged.
func verdictsFor(a *relevanceAnswer, keys []string) (map[string]relevanceVerdict, []error) {
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	byKey := map[string]relevanceVerdict{}
	var problems []error
	for _, v := range a.Verdicts {
		k := strings.TrimSpace(v.Work)
		switch {
		case !known[k]:
			problems = append(problems, fmt.Errorf("%q is not among the retrieved works; valid: [%s]", v.Work, strings.Join(keys, ", ")))
		case byKey[k].Work != "":
			problems = append(problems, fmt.Errorf("%s is judged twice: judge each work once", k))
		default:
			v.Work = k
			byKey[k] = v
		}
	}
	var missing []string
	for _, k := range keys {
		if _, ok := byKey[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Errorf("no verdict for [%s]: judge every listed work", strings.Join(missing, ", ")))
	}
	return byKey, problems
}
