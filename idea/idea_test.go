package idea

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/scripted"
)

// fakeIndex answers every search with its works, ranked by how many query
// words their titles hold.
type fakeIndex struct {
	works   []lit.Work
	queries []string
}

func (f *fakeIndex) Search(_ context.Context, q string, k int) ([]lit.Hit, error) {
	f.queries = append(f.queries, q)
	var hits []lit.Hit
	for _, w := range f.works {
		score := 0
		for _, word := range strings.Fields(strings.ToLower(q)) {
			if strings.Contains(strings.ToLower(w.Title+" "+w.Abstract), word) {
				score++
			}
		}
		if score > 0 {
			hits = append(hits, lit.Hit{Work: w, Score: float64(score)})
		}
	}
	sortStable(hits, func(a, b lit.Hit) bool { return a.Score > b.Score })
	if len(hits) > k {
		hits = hits[:k]
	}
	for i := range hits {
		hits[i].Rank = i + 1
	}
	return hits, nil
}

var works = []lit.Work{
	{ID: "2401.00001", Source: "index", Title: "Contrastive sentence embeddings for semantic relatedness", Abstract: "We learn sentence embeddings with contrastive learning and evaluate semantic relatedness."},
	{ID: "2401.00002", Source: "index", Title: "Character n-gram features for textual similarity", Abstract: "Character n-grams and TF-IDF give strong lexical baselines for textual similarity."},
	{ID: "2401.00003", Source: "index", Title: "Graph neural networks for molecules", Abstract: "Message passing on molecular graphs."},
}

func call(name string, args any) scripted.Response {
	return scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}
}

func ideaArgs(title, hypothesis string, refs ...string) map[string]any {
	var b []any
	for _, r := range refs {
		b = append(b, map[string]any{"work": "index:" + r, "how": "extends it"})
	}
	return map[string]any{
		"title": title, "problem": "lexical baselines miss paraphrase", "rationale": "embeddings capture meaning",
		"hypothesis": hypothesis, "method": "combine features", "builds_on": b,
		"experiment_plan": map[string]any{"datasets": []string{"workspace data"}, "models": []string{"ridge"}, "baselines": []string{"Dice"},
			"metrics": []string{"spearman"}, "ablations": []string{"no char n-grams"}, "steps": []string{"featurize", "fit", "predict"},
			"success_criterion": "spearman +0.02 over baseline", "compute_estimate": "5 CPU-minutes"},
	}
}

func reviewArgs(feasibility int) map[string]any {
	j := func(s int) map[string]any { return map[string]any{"score": s, "reason": "because"} }
	return map[string]any{"clarity": j(4), "validity": j(4), "rigor": j(3), "innovativeness": j(3), "generalizability": j(3),
		"feasibility": j(feasibility), "summary": "fine", "expected": expectedArgs(0.02, "medium", 5)}
}

// expectedArgs is a review's forecast: the metric's change, the risk, the
// steps (runs of 30 s).
func expectedArgs(change float64, risk string, steps int) map[string]any {
	return map[string]any{"metric_change": change, "justification": "as the papers report", "risk": risk, "steps": steps, "run_seconds": 30}
}

func TestGenerate(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		call("research_elements", map[string]any{"research_tasks": []string{"predict relatedness of sentence pairs"},
			"research_gaps": []string{"lexical overlap ignores paraphrase"}, "keywords": []string{"semantic relatedness", "character n-gram similarity"}}),
		// The first proposal cites a work that was not retrieved: it is sent back.
		call("propose_ideas", map[string]any{"ideas": []any{ideaArgs("Invented", "x", "9999.99999")}}),
		call("propose_ideas", map[string]any{"ideas": []any{
			ideaArgs("Char n-gram plus embedding fusion", "Fusing character n-gram similarity with embeddings raises Spearman", "2401.00002", "2401.00001"),
			ideaArgs("Char n-gram and embedding fusion", "Fusing character n-gram similarity with embeddings raises Spearman", "2401.00001"),
			ideaArgs("Contrastive fine-tuning on the training pairs", "Contrastive training on task pairs beats fixed features", "2401.00001"),
		}}),
		call("review_idea", reviewArgs(2)),
		call("review_idea", reviewArgs(5)),
	})
	ix := &fakeIndex{works: works}
	res, err := Generate(context.Background(), Config{
		Model: m, Papers: []Paper{{ID: "p1", Title: "SemRel", Abstract: "relatedness"}},
		Task: "semrel: spearman", Sources: []lit.Source{ix}, Index: ix, N: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Requests()); got != 5 {
		t.Errorf("model called %d times, want 5", got)
	}
	// The invalid proposal went back with the reason.
	retry := m.Requests()[2]
	last := retry.Messages[len(retry.Messages)-1]
	if last.Content[0].ToolResult == nil || !strings.Contains(last.Content[0].ToolResult.Content, `idea 1 (Invented) cites "index:9999.99999"`) ||
		!strings.Contains(last.Content[0].ToolResult.Content, "valid citations: [index:") {
		t.Errorf("the retry does not carry the validation error: %+v", last)
	}
	if len(res.Ideas) != 2 {
		t.Fatalf("%d ideas, want 2 (the near-duplicate merged)", len(res.Ideas))
	}
	top := res.Ideas[0]
	if top.Title != "Contrastive fine-tuning on the training pairs" || top.Rank != 1 || res.Ideas[1].Rank != 2 || top.Score <= res.Ideas[1].Score {
		t.Errorf("ranking: %s (%.2f), %s (%.2f)", top.Title, top.Score, res.Ideas[1].Title, res.Ideas[1].Score)
	}
	merged := res.Ideas[1]
	if len(merged.MergedFrom) != 1 || len(merged.BuildsOn) != 2 {
		t.Errorf("merged idea: from %v, builds on %v", merged.MergedFrom, merged.BuildsOn)
	}
	for _, i := range res.Ideas {
		if i.Novelty == nil || len(i.Novelty.Closest) == 0 || i.Review == nil {
			t.Errorf("idea %s lacks novelty or review", i.ID)
		}
		for _, r := range i.BuildsOn {
			if r.Title == "" || r.Source != "index" {
				t.Errorf("reference without provenance: %+v", r)
			}
		}
	}
	if len(res.Retrieved) == 0 || len(ix.queries) < 3 {
		t.Errorf("retrieved %d works with %d queries", len(res.Retrieved), len(ix.queries))
	}
	// ideas.json round-trips and the Markdown shows the ranking.
	dir := t.TempDir()
	if err := Write(dir, res); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir + "/ideas.json")
	if err != nil || len(back.Ideas) != 2 || back.Ideas[0].Plan.SuccessCriterion == "" {
		t.Fatalf("read back: %v %+v", err, back)
	}
	md := Markdown(res)
	for _, want := range []string{"| 1 | Contrastive fine-tuning on the training pairs |", "index:2401.00001", "**Novelty check**", "| feasibility | 5 | because |"} {
		if !strings.Contains(md, want) {
			t.Errorf("ideas.md lacks %q", want)
		}
	}
}

// TestInvalidOutputDegrades: answers that break the rules on every attempt
// do not end the run; the invalid parts are repaired or dropped, each with a
// warning that names the valid values.
func TestInvalidOutputDegrades(t *testing.T) {
	badElements := call("research_elements", map[string]any{"research_tasks": []string{}, "research_gaps": []string{"lexical overlap ignores paraphrase"}, "keywords": []string{"semantic relatedness", "character n-gram"}})
	noTitle := ideaArgs("", "h", "2401.00001")
	badCite := ideaArgs("Char n-gram fusion", "Fusion raises Spearman", "9999.99999")
	badProposal := call("propose_ideas", map[string]any{"ideas": []any{noTitle, badCite}})
	badReview := reviewArgs(3)
	badReview["clarity"] = map[string]any{"score": 82, "reason": "because"}
	rv := call("review_idea", badReview)
	m := scripted.New("s", []scripted.Response{badElements, badElements, badElements, badProposal, badProposal, badProposal, rv, rv, rv})
	ix := &fakeIndex{works: works}
	var told []string
	res, err := Generate(context.Background(), Config{Model: m, Papers: []Paper{{ID: "p", Title: "Semantic relatedness"}}, Sources: []lit.Source{ix}, Index: ix,
		Retries: 2, N: 3, Warn: func(s string) { told = append(told, s) }})
	if err != nil {
		t.Fatalf("Generate failed instead of degrading: %v", err)
	}
	if got, want := len(res.Ideas), 1; got != want {
		t.Fatalf("%d ideas, want %d (the one without a title dropped)", got, want)
	}
	i := res.Ideas[0]
	if !i.Uncited || len(i.BuildsOn) != 0 {
		t.Errorf("the idea citing an unknown work: uncited %v, builds on %v", i.Uncited, i.BuildsOn)
	}
	if i.Review == nil || i.Review.Clarity.Score != 5 {
		t.Errorf("review not clamped: %+v", i.Review)
	}
	if len(res.Elements.Tasks) == 0 {
		t.Errorf("research tasks not filled in")
	}
	all := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"research_tasks", `cites "index:9999.99999"`, "valid citations: [index:", "no title", "marked uncited", "clarity score 82 is outside 1..5", "clamped to 5"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if len(told) != len(res.Warnings) {
		t.Errorf("Warn told %d warnings, the result holds %d", len(told), len(res.Warnings))
	}
}

// TestNoUsableIdeaFallsBack: a proposal with no usable idea gives mlrc's
// fallback idea rather than an error.
func TestNoUsableIdeaFallsBack(t *testing.T) {
	el := call("research_elements", map[string]any{"research_tasks": []string{"classify digits"}, "research_gaps": []string{"g"}, "keywords": []string{"a", "b"}})
	bad := call("propose_ideas", map[string]any{"ideas": []any{ideaArgs("", "")}})
	m := scripted.New("s", []scripted.Response{el, bad, bad, call("review_idea", reviewArgs(4))})
	res, err := Generate(context.Background(), Config{Model: m, Papers: []Paper{{ID: "p", Title: "t"}}, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ideas) != 1 || !res.Ideas[0].Fallback || !strings.Contains(res.Ideas[0].Title, "classify digits") {
		t.Errorf("ideas: %+v", res.Ideas)
	}
}

// TestSchemasCarryTheRules: the rules are in the schemas the model sees.
func TestSchemasCarryTheRules(t *testing.T) {
	s, err := proposalSchema(3, []string{"index:a", "arxiv:2401.1"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	for _, want := range []string{`"enum":["index:a","arxiv:2401.1"]`, `"maxItems":3`, `"minItems":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("proposal schema lacks %s: %s", want, b)
		}
	}
	for _, gone := range []string{`"score"`, `"rank"`, `"novelty"`, `"review"`, `"id"`, `"null"`} {
		if strings.Contains(string(b), gone) {
			t.Errorf("proposal schema asks for %s, which the proposer does not decide", gone)
		}
	}
	r, _ := reviewSchema(Budget{Metric: "log_loss", Goal: "minimize", MaxSteps: 12, RunTimeout: 300 * time.Second})
	b, _ = json.Marshal(r)
	for _, want := range []string{`"minimum":1,"maximum":5`, `"enum":["low","medium","high"]`, `"minimum":1,"maximum":12`, `"minimum":1,"maximum":300`,
		"log_loss, lower is better", `"required":["clarity","validity","rigor","innovativeness","generalizability","feasibility","summary","expected"]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("review schema lacks %s: %s", want, b)
		}
	}
}

func TestSelectEdited(t *testing.T) {
	res := &Result{Ideas: []Idea{{ID: "idea-1", Title: "a", Rank: 1}, {ID: "idea-2", Title: "b", Rank: 2}}}
	edited := Idea{Title: "b, sharper", Hypothesis: "h"}
	Select(res, Choice{Pick: 1, Edited: &edited})
	if res.Ideas[0].Title != "b, sharper" || res.Ideas[0].ID != "idea-2" || res.Ideas[0].Rank != 1 || res.Ideas[1].ID != "idea-1" {
		t.Errorf("after select: %+v", res.Ideas)
	}
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), "edited idea-2") {
		t.Errorf("the edit is not recorded: %s", b)
	}
}
