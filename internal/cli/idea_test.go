package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/research"
)

// shared returns a path in ../shared, skipping when it is absent.
func shared(t *testing.T, rel string) string {
	t.Helper()
	p, _ := filepath.Abs(filepath.Join("../../../shared", rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("../shared is absent (%v): this test reads %s", err, rel)
	}
	return p
}

var retrievedID = regexp.MustCompile(`- \[([^\]\s]+)\] `)

// proposeFromPrompt answers propose_ideas citing the first works that the
// prompt lists as retrieved: the ids are whatever the index returned.
func proposeFromPrompt(req fakeserver.Request) fakeserver.Reply {
	ids := retrievedID.FindAllStringSubmatch(string(req.Raw), -1)
	var ideas []any
	for i, title := range []string{"Character n-gram and embedding fusion for relatedness", "Ranking loss fine-tuning for relatedness", "Pairwise features with gradient boosting"} {
		ref := ids[min(i, len(ids)-1)]
		ideas = append(ideas, map[string]any{
			"title": title, "problem": "lexical overlap misses paraphrase", "rationale": "see the cited work",
			"hypothesis": title + " raises Spearman over the Dice baseline", "method": "implement " + title,
			"builds_on": []any{map[string]any{"work": ref[1], "how": "builds on its features"}},
			"experiment_plan": map[string]any{"datasets": []string{"data/train.csv"}, "models": []string{"ridge"}, "baselines": []string{"Dice"},
				"metrics": []string{"spearman"}, "ablations": []string{"without char n-grams"}, "steps": []string{"featurize", "fit"},
				"success_criterion": "spearman at least 0.02 above the baseline", "compute_estimate": "5 CPU-minutes"},
		})
	}
	return fakeserver.Reply{Response: &scripted.Response{ToolCalls: []scripted.ToolCall{{Name: "propose_ideas", Arguments: map[string]any{"ideas": ideas}}}}}
}

var listedWork = regexp.MustCompile(`(?m)^- \[([^\]\s]+)\] (.+?)(?: \(\d{4}\))?$`)

// promptText is the text of a Chat Completions request's messages.
func promptText(req fakeserver.Request) string {
	var body struct {
		Messages []struct {
			Content any `json:"content"`
		} `json:"messages"`
	}
	json.Unmarshal(req.Raw, &body)
	var b strings.Builder
	for _, m := range body.Messages {
		if s, ok := m.Content.(string); ok {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

// judgeFromPrompt judges the listed works on their titles: relevant when
// the title speaks of meaning, similarity or sentences.
func judgeFromPrompt(req fakeserver.Request) fakeserver.Reply {
	var verdicts []any
	for _, m := range listedWork.FindAllStringSubmatch(promptText(req), -1) {
		title := strings.ToLower(m[2])
		on := false
		for _, w := range []string{"semantic", "similar", "relatedness", "sentence", "embedding", "paraphrase"} {
			on = on || strings.Contains(title, w)
		}
		verdicts = append(verdicts, map[string]any{"work": m[1], "relevant": on, "reason": "judged on the title"})
	}
	return tool("judge_relevance", map[string]any{"verdicts": verdicts})
}

// decideFromPrompt decides "incremental", citing the first work the
// novelty searches listed.
func decideFromPrompt(req fakeserver.Request) fakeserver.Reply {
	m := listedWork.FindStringSubmatch(promptText(req))
	closest := []any{}
	if m != nil {
		closest = append(closest, map[string]any{"work": m[1], "how": "scores sentence pairs the same way"})
	}
	return tool("novelty_decision", map[string]any{"decision": "incremental", "queries": []string{}, "closest": closest,
		"reason": "close work on sentence similarity exists"})
}

func reviewReply(feasibility int) fakeserver.Reply {
	j := func(s int) map[string]any { return map[string]any{"score": s, "reason": "as argued"} }
	return tool("review_idea", map[string]any{"clarity": j(4), "validity": j(4), "rigor": j(3), "innovativeness": j(3),
		"generalizability": j(3), "feasibility": j(feasibility), "summary": "sound and feasible",
		"expected": expected(0.01, "medium", 4)})
}

// expected is a review's forecast: the metric's change, the risk, the steps
// (each run 20 s).
func expected(change float64, risk string, steps int) map[string]any {
	return map[string]any{"metric_change": change, "justification": "the papers report gains of this size", "risk": risk,
		"steps": steps, "run_seconds": 20}
}

// mlrc idea on the SemRel paper and task, through the OpenAI wire format,
// with the literature index built from the corpus sample.
func TestIdeaOnSemrel(t *testing.T) {
	paperPath := shared(t, "papers/semrel_paper.md")
	corpus := shared(t, "corpus/arxiv-ml-abstracts-2k.jsonl")
	runs := t.TempDir()
	ctx := context.Background()
	indexPath := filepath.Join(runs, "literature.db")
	ix, err := lit.OpenIndex(ctx, indexPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.AddFile(ctx, corpus); err != nil {
		t.Fatal(err)
	}
	ix.Close()

	srv := fakeserver.New(
		// A malformed answer first: keywords must be a list.
		tool("research_elements", map[string]any{"research_tasks": []string{"rate relatedness"}, "research_gaps": []string{"x"}, "keywords": "semantic relatedness"}),
		tool("research_elements", map[string]any{
			"research_tasks": []string{"predict the semantic relatedness of English sentence pairs"},
			"research_gaps":  []string{"lexical overlap baselines ignore paraphrase and word order", "few methods for low-resource languages"},
			"keywords":       []string{"semantic textual relatedness", "sentence similarity", "sentence embeddings"},
		}),
		tool("search_queries", map[string]any{"queries": []string{"semantic textual relatedness", "sentence similarity regression", "paraphrase detection"}}),
		fakeserver.Reply{Dynamic: judgeFromPrompt},
		fakeserver.Reply{Dynamic: proposeFromPrompt},
		// The novelty check of each idea: first searches, then (the first
		// idea) one more round, then a decision citing a work seen.
		tool("novelty_queries", map[string]any{"queries": []string{"character n-gram embedding fusion"}}),
		tool("novelty_decision", map[string]any{"decision": "search_more", "queries": []string{"lexical and semantic similarity features"}, "closest": []any{}, "reason": ""}),
		fakeserver.Reply{Dynamic: decideFromPrompt},
		tool("novelty_queries", map[string]any{"queries": []string{"ranking loss sentence similarity"}}),
		fakeserver.Reply{Dynamic: decideFromPrompt},
		tool("novelty_queries", map[string]any{"queries": []string{"gradient boosting pairwise text features"}}),
		fakeserver.Reply{Dynamic: decideFromPrompt},
		reviewReply(5), reviewReply(2), reviewReply(4),
	)
	defer srv.Close()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	r := run(t, env, "idea", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", paperPath,
		"--task", "../../examples/tasks/semrel", "--auto", "--offline", "--n", "3")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 15 {
		t.Fatalf("%d model calls, want 15\n%s", len(reqs), r.stdout)
	}
	// The paper's body, under a section name of its own, reaches the model.
	if body := string(reqs[0].Raw); !strings.Contains(body, "Tracks: (a) supervised, (b) unsupervised, (c) crosslingual") {
		t.Errorf("the elements request lacks the paper's facts section:\n%.3000s", body)
	}
	if body := string(reqs[1].Raw); !strings.Contains(body, "do not match the schema") {
		t.Errorf("the retry does not carry the validation error:\n%.1500s", body)
	}
	if body := string(reqs[4].Raw); !strings.Contains(body, "data/train.csv") || !strings.Contains(body, "no new data collection") {
		t.Errorf("the generator was not told the task's constraints:\n%.3000s", body)
	}
	m := regexp.MustCompile(`ideas: (\S+ideas\.json)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no ideas.json in output:\n%s", r.stdout)
	}
	raw, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	// Schema-valid against the Result type's JSON Schema.
	schema, _ := jsonschema.For[idea.Result](nil)
	resolved, _ := schema.Resolve(nil)
	var generic any
	json.Unmarshal(raw, &generic)
	if err := resolved.Validate(generic); err != nil {
		t.Errorf("ideas.json does not validate: %v", err)
	}
	res, err := idea.Read(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ideas) != 3 || res.Ideas[0].Rank != 1 || res.Ideas[0].Score < res.Ideas[1].Score || res.Ideas[1].Score < res.Ideas[2].Score {
		t.Fatalf("ranking: %+v", res.Ideas)
	}
	retrieved := map[string]lit.Work{}
	for _, w := range res.Retrieved {
		retrieved[w.Source+" "+w.ID] = w
	}
	for _, i := range res.Ideas {
		for _, ref := range i.BuildsOn {
			w, ok := retrieved[ref.Source+" "+ref.ID]
			if !ok || w.Title == "" || ref.Title != w.Title {
				t.Errorf("idea %q cites %+v, not a retrieved index work", i.Title, ref)
			}
		}
		if i.Novelty == nil || i.Review == nil {
			t.Errorf("idea %q lacks its novelty check or review", i.Title)
		}
	}
	// The index found relevant work for the SemRel keywords.
	relevant := 0
	for _, w := range res.Retrieved {
		if strings.Contains(strings.ToLower(w.Title+w.Abstract), "semantic") || strings.Contains(strings.ToLower(w.Title+w.Abstract), "sentence") {
			relevant++
		}
	}
	if relevant < 2 || 2*relevant < len(res.Retrieved) {
		t.Errorf("only %d of %d retrieved works look relevant", relevant, len(res.Retrieved))
	}
	// Each work the proposer saw was judged relevant; the others were
	// judged and dropped.
	judged := map[string]bool{}
	dropped := 0
	for _, r := range res.Relevance {
		judged[r.Work] = r.Relevant
		if !r.Relevant {
			dropped++
		}
	}
	for _, w := range res.Retrieved {
		if !judged[w.Source+":"+w.ID] {
			t.Errorf("%s reached the proposer without a relevant verdict", w.ID)
		}
	}
	if len(res.Retrieved) == 0 || dropped == 0 || res.Queries[0] != "semantic textual relatedness" {
		t.Errorf("retrieved %d, dropped %d, queries %v", len(res.Retrieved), dropped, res.Queries)
	}
	// The novelty checks are recorded: queries, hits per round, decision
	// and the closest work, drawn from the hits.
	for n, i := range res.Ideas {
		nv := i.Novelty
		if nv == nil || nv.Decision != idea.Incremental || len(nv.Rounds) == 0 || len(nv.Closest) != 1 {
			t.Fatalf("idea %d novelty: %+v", n, nv)
		}
		hit := false
		for _, r := range nv.Rounds {
			for _, h := range r.Hits {
				hit = hit || (h.ID == nv.Closest[0].Work.ID && h.Title != "")
			}
		}
		if !hit || nv.Closest[0].How == "" {
			t.Errorf("idea %d: the closest work %+v is not among its hits", n, nv.Closest[0])
		}
	}
	var two *idea.Novelty
	for _, i := range res.Ideas {
		if strings.HasPrefix(i.Title, "Character n-gram") {
			two = i.Novelty
		}
	}
	if two == nil || len(two.Rounds) != 2 || two.Rounds[1].Queries[0] != "lexical and semantic similarity features" || len(two.Rounds[0].Hits) == 0 {
		t.Errorf("the two-round check: %+v", two)
	}
	md, _ := os.ReadFile(filepath.Join(filepath.Dir(m[1]), "ideas.md"))
	for _, want := range []string{"**Novelty check: incremental.** close work on sentence similarity exists", "Round 1, searched: character n-gram embedding fusion",
		"Round 2, searched: lexical and semantic similarity features", "Judged off-topic and not shown to the proposer", "scores sentence pairs the same way"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("ideas.md lacks %q", want)
		}
	}
	if res.Task != "semrel" || res.Papers[0].Title == "" {
		t.Errorf("task %q, papers %+v", res.Task, res.Papers)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(m[1]), "ideas.md")); err != nil {
		t.Error(err)
	}
	// The chosen idea is a plan for mlrc experiment.
	plan, err := research.ReadPlan(m[1])
	if err != nil || !strings.Contains(plan, res.Ideas[0].Title) || !strings.Contains(plan, "Success criterion") {
		t.Errorf("plan from ideas.json: %v\n%s", err, plan)
	}
}
