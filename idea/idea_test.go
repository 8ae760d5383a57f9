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

func verdict(work string, relevant bool) map[string]any {
	return map[string]any{"work": work, "relevant": relevant, "reason": "judged"}
}

func decision(d string, queries []string, reason string, closest ...string) scripted.Response {
	var c []any
	for _, w := range closest {
		c = append(c, map[string]any{"work": w, "how": "does the same with other features"})
	}
	if c == nil {
		c = []any{}
	}
	if queries == nil {
		queries = []string{}
	}
	return call("novelty_decision", map[string]any{"decision": d, "queries": queries, "closest": c, "reason": reason})
}

func TestGenerate(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		call("research_elements", map[string]any{"research_tasks": []string{"predict relatedness of sentence pairs"},
			"research_gaps": []string{"lexical overlap ignores paraphrase"}, "keywords": []string{"semantic relatedness", "character n-gram similarity"}}),
		call("search_queries", map[string]any{"queries": []string{"sentence relatedness embeddings", "graph neural similarity"}}),
		// The graph work shares a word with a query: judged off-topic, it is
		// not shown to the proposer.
		call("judge_relevance", map[string]any{"verdicts": []any{verdict("index:2401.00001", true), verdict("index:2401.00003", false), verdict("index:2401.00002", true)}}),
		// The first proposal cites a work that was not retrieved: it is sent back.
		call("propose_ideas", map[string]any{"ideas": []any{ideaArgs("Invented", "x", "9999.99999")}}),
		call("propose_ideas", map[string]any{"ideas": []any{
			ideaArgs("Char n-gram plus embedding fusion", "Fusing character n-gram similarity with embeddings raises Spearman", "2401.00002", "2401.00001"),
			ideaArgs("Char n-gram and embedding fusion", "Fusing character n-gram similarity with embeddings raises Spearman", "2401.00001"),
			ideaArgs("Contrastive fine-tuning on the training pairs", "Contrastive training on task pairs beats fixed features", "2401.00001"),
		}}),
		// Novelty of idea-1 (idea-2 merged into it): two rounds.
		call("novelty_queries", map[string]any{"queries": []string{"character n-gram embedding fusion"}}),
		decision("search_more", []string{"n-gram similarity relatedness"}, ""),
		decision("incremental", nil, "n-gram baselines and embeddings exist; fusing them is a small step", "index:2401.00002"),
		// Novelty of idea-3: one round.
		call("novelty_queries", map[string]any{"queries": []string{"contrastive sentence embeddings relatedness"}}),
		decision("known", nil, "contrastive sentence embeddings for relatedness exist", "index:2401.00001"),
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
	if got := len(m.Requests()); got != 12 {
		t.Errorf("model called %d times, want 12", got)
	}
	// The queries are the model's short phrases, then the keywords.
	if got, want := strings.Join(res.Queries, "|"), "sentence relatedness embeddings|graph neural similarity|semantic relatedness|character n-gram similarity"; got != want {
		t.Errorf("queries %s, want %s", got, want)
	}
	// The off-topic work was judged, recorded and kept from the proposer.
	if len(res.Retrieved) != 2 || len(res.Relevance) != 3 {
		t.Fatalf("retrieved %v, relevance %v", res.Retrieved, res.Relevance)
	}
	for _, w := range res.Retrieved {
		if w.ID == "2401.00003" {
			t.Errorf("the off-topic work reached the proposer")
		}
	}
	if p := m.Requests()[3]; strings.Contains(p.Messages[0].Text(), "Graph neural networks") || !strings.Contains(p.Messages[0].Text(), "Character n-gram features") {
		t.Errorf("the proposer's prompt:\n%s", p.Messages[0].Text())
	}
	// The invalid proposal went back with the reason.
	retry := m.Requests()[4]
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
	// The novelty checks: queries, hits per round and the decision with
	// the closest works, as the model gave them.
	byTitle := map[string]Idea{}
	for _, i := range res.Ideas {
		byTitle[i.Title] = i
	}
	n := byTitle["Char n-gram plus embedding fusion"].Novelty
	if n == nil || n.Decision != Incremental || len(n.Rounds) != 2 || n.Rounds[0].Queries[0] != "character n-gram embedding fusion" ||
		len(n.Rounds[0].Hits) != 2 || len(n.Rounds[1].Hits) != 0 || len(n.Closest) != 1 || n.Closest[0].Work.ID != "2401.00002" || n.Closest[0].Work.Title == "" {
		t.Errorf("novelty of the fusion idea: %+v", n)
	}
	if n := byTitle["Contrastive fine-tuning on the training pairs"].Novelty; n == nil || n.Decision != Known || n.Score != 0 || len(n.Rounds) != 1 {
		t.Errorf("novelty of the contrastive idea: %+v", n)
	}
	// The second round's request shows that nothing new was found; the
	// reviewer sees the decision.
	if got := m.Requests()[7].Messages; !strings.Contains(got[len(got)-1].Text(), "Round 2 of 3") || !strings.Contains(got[len(got)-1].Text(), "no work not seen before") {
		t.Errorf("round 2 request: %s", got[len(got)-1].Text())
	}
	if got := m.Requests()[10].Messages[0].Text(); !strings.Contains(got, "Decision: incremental") || !strings.Contains(got, "index:2401.00002") {
		t.Errorf("the reviewer does not see the novelty check:\n%s", got)
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
	for _, want := range []string{"| 1 | Contrastive fine-tuning on the training pairs |", "index:2401.00001", "**Novelty check: known.**", "**Novelty check: incremental.**",
		"Round 2, searched: n-gram similarity relatedness — 0 new work(s)", "- index:2401.00002 — Character n-gram features for textual similarity: does the same",
		"Judged off-topic and not shown to the proposer:", "| feasibility | 5 | because |"} {
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
	sq := call("search_queries", map[string]any{"queries": []string{"semantic relatedness of sentence pairs with many many extra words", "char n-grams"}})
	// A verdict for a work that was not retrieved, none for the others.
	badJudge := call("judge_relevance", map[string]any{"verdicts": []any{verdict("index:9999.99999", true)}})
	nq := call("novelty_queries", map[string]any{"queries": []string{"character n-gram fusion"}})
	badDecision := decision("known", nil, "it exists", "index:9999.99999")
	m := scripted.New("s", []scripted.Response{badElements, badElements, badElements, sq, sq, sq, badJudge, badJudge, badJudge,
		badProposal, badProposal, badProposal, nq, badDecision, badDecision, badDecision, rv, rv, rv})
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
	// The long query was dropped, the short one kept; the invalid verdicts
	// kept every work in retrieval order; the invalid decision left the
	// idea unchecked.
	if got := strings.Join(res.Queries, "|"); got != "char n-grams|semantic relatedness|character n-gram" {
		t.Errorf("queries %s", got)
	}
	if len(res.Relevance) != 0 || len(res.Retrieved) != 2 {
		t.Errorf("relevance %v, retrieved %d", res.Relevance, len(res.Retrieved))
	}
	if n := i.Novelty; n == nil || n.Decision != Unchecked || len(n.Rounds) != 1 || len(n.Rounds[0].Hits) == 0 {
		t.Errorf("novelty %+v", n)
	}
	all := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"research_tasks", `cites "index:9999.99999"`, "valid citations: [index:", "no title", "marked uncited", "clarity score 82 is outside 1..5", "clamped to 5",
		"search_queries", "has 10 words", "judge_relevance", "every retrieved work is kept, in retrieval order", "novelty of idea-1", "left unchecked", `closest work "index:9999.99999" was not among the works seen`} {
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
