package idea

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
)

// Novelty decisions.
const (
	Novel       = "novel"
	Incremental = "incremental"
	Known       = "known"
	// Unchecked: there was no literature to search, or the model's answers
	// stayed invalid (a warning says which).
	Unchecked = "unchecked"
	// searchMore is the model's wish for another round of searches.
	searchMore = "search_more"
)

// Novelty check bounds.
const (
	// noveltyRounds bounds the rounds of searches per idea.
	noveltyRounds = 3
	// noveltyPerQuery is how many hits each source gives for each query.
	noveltyPerQuery = 5
	// noveltyQueries bounds the queries of one round.
	noveltyQueries = 3
)

// noveltyScore is Novelty.Score for each decision.
var noveltyScore = map[string]float64{Novel: 1, Incremental: 0.5, Unchecked: 0.5, Known: 0}

// Novelty is the novelty check of an idea, done as a reviewer would: the
// model searches the literature over rounds, reads the hits and decides
// whether the idea is novel, incremental or known, citing the closest
// works it saw.
type Novelty struct {
	Decision string `json:"decision"` // novel, incremental, known, unchecked
	Reason   string `json:"reason,omitempty"`
	// Score is the decision as a number: 1 novel, 0.5 incremental or
	// unchecked, 0 known.
	Score   float64   `json:"score"`
	Closest []Closest `json:"closest"`
	// Rounds are the searches, in order, with what each found.
	Rounds []NoveltyRound `json:"rounds,omitempty"`
}

// Closest is a prior work close to an idea and how it relates.
type Closest struct {
	Work lit.Work `json:"work"`
	How  string   `json:"how,omitempty"`
}

// NoveltyRound is one round of the novelty check: the model's queries and
// the works they found (title and provenance; abstracts are not kept).
type NoveltyRound struct {
	Queries []string   `json:"queries"`
	Hits    []lit.Work `json:"hits"`
}

// noveltySearch is the model's first answer: what to search for.
type noveltySearch struct {
	Queries []string `json:"queries" jsonschema:"short search phrases (2 to 8 words) that would find prior work doing what the idea proposes"`
}

// noveltyDecision is the model's answer after reading the hits.
type noveltyDecision struct {
	Decision string         `json:"decision" jsonschema:"novel: no work seen does this; incremental: close work exists and the idea changes it in a small way; known: a work seen already does this; search_more: search again before deciding"`
	Queries  []string       `json:"queries" jsonschema:"with search_more, the next searches (short phrases); otherwise empty"`
	Closest  []closestByKey `json:"closest" jsonschema:"the works seen that come closest to the idea, by key"`
	Reason   string         `json:"reason" jsonschema:"why, naming what the closest works do and what the idea adds"`
}

type closestByKey struct {
	Work string `json:"work" jsonschema:"the key of a work seen, source:id, exactly as listed"`
	How  string `json:"how" jsonschema:"what this work does that the idea also does, or how the idea differs"`
}

// noveltySources are the sources the novelty check searches: every
// literature source, and the index if it is not among them.
func noveltySources(cfg Config) []lit.Source {
	srcs := append([]lit.Source{}, cfg.Sources...)
	if cfg.Index != nil {
		for _, s := range srcs {
			if s == cfg.Index {
				return srcs
			}
		}
		srcs = append(srcs, cfg.Index)
	}
	return srcs
}

// novelty checks one idea against the literature over at most
// noveltyRounds rounds of searches. An invalid answer after the retries
// leaves the idea unchecked, with a warning; only a failed model call is
// an error.
func novelty(ctx context.Context, cfg Config, idea Idea) (*Novelty, error) {
	srcs := noveltySources(cfg)
	if len(srcs) == 0 {
		return &Novelty{Decision: Unchecked, Score: noveltyScore[Unchecked], Reason: "no literature to search (no local index, and offline)", Closest: []Closest{}}, nil
	}
	shown := idea
	shown.Novelty, shown.Review, shown.BuildsOn = nil, nil, nil
	text, _ := json.MarshalIndent(struct {
		Title, Problem, Hypothesis, Method string
	}{shown.Title, shown.Problem, shown.Hypothesis, shown.Method}, "", "  ")
	req := llm.Request{System: render("system.md", nil), Messages: []llm.Message{llm.UserText(render("novelty.md", map[string]any{
		"Idea": string(text), "Task": cfg.Task, "Rounds": noveltyRounds,
	}))}}
	unchecked := func(n *Novelty, err error) (*Novelty, error) {
		cfg.warn(fmt.Sprintf("novelty of %s (%s): %v; the idea is left unchecked", idea.ID, clip(idea.Title, 80), err))
		n.Decision, n.Score, n.Closest = Unchecked, noveltyScore[Unchecked], []Closest{}
		n.Reason = "the model's answers did not validate"
		return n, nil
	}
	n := &Novelty{}
	schema, err := queriesSchema()
	if err != nil {
		return nil, err
	}
	first, err := ask(ctx, cfg.Model, req, "novelty_queries", "Give the searches for prior work.", schema, cfg.Retries, func(s *noveltySearch) error {
		return errors.Join(checkQueries(s.Queries)...)
	})
	if errors.Is(err, ErrInvalidOutput) {
		return unchecked(n, err)
	}
	if err != nil {
		return nil, err
	}
	req.Messages = append(req.Messages, llm.AssistantText("Searches: "+strings.Join(first.Queries, "; ")))
	seen := map[string]lit.Work{}
	var keys []string
	qs := first.Queries
	for round := 1; ; round++ {
		found, err := searchRound(ctx, cfg, srcs, qs, seen)
		if err != nil {
			return nil, err
		}
		var hits []lit.Work
		for _, w := range found {
			keys = append(keys, workKey(w))
			brief := w
			brief.Abstract, brief.Authors, brief.Categories = "", nil, nil
			hits = append(hits, brief)
		}
		n.Rounds = append(n.Rounds, NoveltyRound{Queries: qs, Hits: orEmpty(hits)})
		last := round == noveltyRounds
		req.Messages = append(req.Messages, llm.UserText(render("novelty_hits.md", map[string]any{
			"Round": round, "Works": found, "Last": last, "Rounds": noveltyRounds,
		})))
		schema, err := decisionSchema(keys, last)
		if err != nil {
			return nil, err
		}
		d, err := ask(ctx, cfg.Model, req, "novelty_decision", "Decide, or search again.", schema, cfg.Retries, func(d *noveltyDecision) error {
			return errors.Join(checkDecision(d, seen, last)...)
		})
		if errors.Is(err, ErrInvalidOutput) {
			return unchecked(n, err)
		}
		if err != nil {
			return nil, err
		}
		if d.Decision == searchMore {
			req.Messages = append(req.Messages, llm.AssistantText("Searches: "+strings.Join(d.Queries, "; ")))
			qs = d.Queries
			continue
		}
		n.Decision, n.Score, n.Reason = d.Decision, noveltyScore[d.Decision], d.Reason
		n.Closest = []Closest{}
		for _, c := range d.Closest {
			w := seen[strings.TrimSpace(c.Work)]
			w.Abstract, w.Authors, w.Categories = "", nil, nil
			n.Closest = append(n.Closest, Closest{Work: w, How: c.How})
		}
		return n, nil
	}
}

// searchRound runs the queries against every source and returns the works
// not seen before, adding them to seen. A failed search is a warning.
func searchRound(ctx context.Context, cfg Config, srcs []lit.Source, qs []string, seen map[string]lit.Work) ([]lit.Work, error) {
	var lists [][]lit.Hit
	for i, src := range srcs {
		for _, q := range qs {
			hits, err := src.Search(ctx, q, noveltyPerQuery)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				cfg.warn(fmt.Sprintf("novelty search %q in literature source %d: %s", q, i+1, clip(err.Error(), 200)))
				continue
			}
			lists = append(lists, hits)
		}
	}
	var found []lit.Work
	for _, h := range lit.Fuse(lists, noveltyPerQuery, len(qs)*len(srcs)*noveltyPerQuery) {
		k := workKey(h.Work)
		if _, ok := seen[k]; ok {
			continue
		}
		w := h.Work
		w.Abstract = clip(w.Abstract, 400)
		seen[k] = w
		found = append(found, w)
	}
	return found, nil
}

func queriesSchema() (*jsonschema.Schema, error) {
	return schemaFor[noveltySearch](func(s *jsonschema.Schema) {
		q := prop(s, "queries")
		minItems(q, 1)
		maxItems(q, noveltyQueries)
		minLength(q.Items)
	})
}

// decisionSchema holds the rules of a decision: the decisions allowed
// (search_more not in the last round), the closest works drawn from the
// keys seen.
func decisionSchema(keys []string, last bool) (*jsonschema.Schema, error) {
	return schemaFor[noveltyDecision](func(s *jsonschema.Schema) {
		d := prop(s, "decision")
		d.Enum = []any{Novel, Incremental, Known}
		if !last {
			d.Enum = append(d.Enum, searchMore)
		}
		maxItems(prop(s, "queries"), noveltyQueries)
		closest := prop(s, "closest")
		if len(keys) == 0 {
			maxItems(closest, 0)
		} else {
			maxItems(closest, 5)
			for _, k := range keys {
				closest.Items.Properties["work"].Enum = append(closest.Items.Properties["work"].Enum, k)
			}
		}
	})
}

// checkDecision names what is wrong with a decision beyond its schema.
func checkDecision(d *noveltyDecision, seen map[string]lit.Work, last bool) []error {
	var errs []error
	switch d.Decision {
	case searchMore:
		if last {
			errs = append(errs, fmt.Errorf("this was the last round: decide novel, incremental or known"))
		} else if len(d.Queries) == 0 {
			errs = append(errs, fmt.Errorf("search_more needs the next queries"))
		}
		errs = append(errs, checkQueries(d.Queries)...)
	case Novel, Incremental, Known:
		if d.Decision != Novel && len(d.Closest) == 0 && len(seen) > 0 {
			errs = append(errs, fmt.Errorf("%s: name the closest works seen", d.Decision))
		}
	default:
		errs = append(errs, fmt.Errorf("decision %q: want novel, incremental, known or search_more", d.Decision))
	}
	for _, c := range d.Closest {
		if _, ok := seen[strings.TrimSpace(c.Work)]; !ok {
			keys := slices.Sorted(maps.Keys(seen))
			errs = append(errs, fmt.Errorf("closest work %q was not among the works seen; valid: [%s]", c.Work, strings.Join(keys, ", ")))
		}
	}
	if strings.TrimSpace(d.Reason) == "" && d.Decision != searchMore {
		errs = append(errs, fmt.Errorf("give the reason for the decision"))
	}
	return errs
}

func orEmpty(ws []lit.Work) []lit.Work {
	if ws == nil {
		return []lit.Work{}
	}
	return ws
}
