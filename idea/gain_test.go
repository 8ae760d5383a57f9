package idea

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/llm/openai"
	"github.com/mlrc/mlrc/llm/scripted"
)

// named fills in the model's name, as llm.Stack does for the CLI.
type named struct {
	m    Model
	name string
}

func (n named) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r := *req
	r.Model = n.name
	return n.m.Complete(ctx, &r)
}

// novel is a novelty decision: novel, nothing close.
func novel() fakeserver.Reply {
	d := decision("novel", nil, "nothing close was found")
	return fakeserver.Reply{Response: &d}
}

func reply(name string, args any) fakeserver.Reply {
	return fakeserver.Reply{Response: &scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}}
}

// reviewWith is a review whose criteria are all 4 but validity and
// feasibility, with the forecast given (nil: none).
func reviewWith(validity, feasibility int, expected map[string]any) map[string]any {
	r := reviewArgs(feasibility)
	r["validity"] = map[string]any{"score": validity, "reason": "because"}
	for _, c := range []string{"clarity", "rigor", "innovativeness", "generalizability"} {
		r[c] = map[string]any{"score": 4, "reason": "because"}
	}
	if expected == nil {
		delete(r, "expected")
	} else {
		r["expected"] = expected
	}
	return r
}

// The ranking over real HTTP, on a task whose metric is minimized: with the
// criteria tied, the idea expected to lower the loss most per unit of
// budget wins, and the result says why; an idea with a larger forecast but
// below the guard ranks last; an idea whose review never gives a valid
// forecast is ranked by its criteria, with a warning.
func TestRankByExpectedGain(t *testing.T) {
	ideas := []any{
		ideaArgs("Calibrate the probabilities", "Temperature scaling lowers the log loss", "2401.00001"),
		ideaArgs("Fine-tune a sentence encoder", "A fine-tuned encoder lowers the log loss", "2401.00001"),
		ideaArgs("A giant ensemble", "Fifty models lower the log loss", "2401.00002"),
		ideaArgs("Character n-grams", "Character n-grams lower the log loss", "2401.00002"),
	}
	noForecast := reviewWith(4, 4, nil)
	srv := fakeserver.New(
		reply("research_elements", map[string]any{"research_tasks": []string{"classify texts"}, "research_gaps": []string{"losses are poorly calibrated"},
			"keywords": []string{"semantic relatedness", "character n-gram similarity"}}),
		reply("search_queries", map[string]any{"queries": []string{"sentence relatedness embeddings", "graph neural similarity"}}),
		reply("judge_relevance", map[string]any{"verdicts": []any{verdict("index:2401.00001", true), verdict("index:2401.00003", false), verdict("index:2401.00002", true)}}),
		reply("propose_ideas", map[string]any{"ideas": ideas}),
		// Each idea's novelty check: one round, novel.
		reply("novelty_queries", map[string]any{"queries": []string{"temperature scaling log loss"}}), novel(),
		reply("novelty_queries", map[string]any{"queries": []string{"fine-tuned sentence encoder"}}), novel(),
		reply("novelty_queries", map[string]any{"queries": []string{"large ensembles text"}}), novel(),
		reply("novelty_queries", map[string]any{"queries": []string{"character n-grams log loss"}}), novel(),
		// 1: a tweak: -0.005, low risk, 1 step (charged MinCost) → 0.016.
		reply("review_idea", reviewWith(4, 4, expectedArgs(-0.005, "low", 1))),
		// 2: -0.08, medium risk, 12 of 24 steps → 0.08.
		reply("review_idea", reviewWith(4, 4, expectedArgs(-0.08, "medium", 12))),
		// 3: -0.3, but infeasible (feasibility 2): below the guard.
		reply("review_idea", reviewWith(4, 2, expectedArgs(-0.3, "low", 20))),
		// 4: no forecast on any attempt.
		reply("review_idea", noForecast), reply("review_idea", noForecast), reply("review_idea", noForecast),
	)
	defer srv.Close()
	model := named{openai.New(openai.Config{BaseURL: srv.URL + "/v1", APIKey: "x"}), "gpt-4o-mini"}
	ix := &fakeIndex{works: works}
	var warned []string
	res, err := Generate(context.Background(), Config{
		Model: model, Papers: []Paper{{ID: "p1", Title: "Texts", Abstract: "classification"}}, Task: "texts: log loss",
		Budget:  Budget{Metric: "log_loss", Goal: "minimize", MaxSteps: 24, RunTimeout: time.Minute, TotalTime: time.Hour},
		Sources: []lit.Source{ix}, Index: ix, N: 4, Warn: func(s string) { warned = append(warned, s) },
	})
	if err != nil {
		for _, r := range srv.Requests() {
			b, _ := json.Marshal(r.Body["tool_choice"])
			m, _ := json.Marshal(r.Body["messages"])
			t.Logf("%s %.300s", b, m[max(0, len(m)-300):])
		}
		t.Fatal(err)
	}
	if got, want := len(srv.Requests()), 18; got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	var order []string
	for _, i := range res.Ideas {
		order = append(order, i.Title)
	}
	want := []string{"Fine-tune a sentence encoder", "Calibrate the probabilities", "Character n-grams", "A giant ensemble"}
	if strings.Join(order, " | ") != strings.Join(want, " | ") {
		t.Fatalf("ranking:\n got %q\nwant %q", order, want)
	}
	first, tweak := res.Ideas[0], res.Ideas[1]
	if first.Score != tweak.Score {
		t.Errorf("the criteria should tie: %.2f against %.2f", first.Score, tweak.Score)
	}
	if g := first.Gain; g == nil || g.Expected != 0.08 || g.Chance != 0.5 || g.Cost != 0.5 || g.Score != 0.08 {
		t.Errorf("the winner's gain = %+v, want expected 0.08 (loss lowered), chance 0.5, cost 0.5, score 0.08", g)
	}
	if g := tweak.Gain; g == nil || g.Score < 0.0159 || g.Score > 0.0161 {
		t.Errorf("the tweak's gain = %+v, want score 0.005 × 0.8 ÷ 0.25 = 0.016", g)
	}
	if res.Ideas[2].Gain != nil || res.Ideas[2].Review == nil || res.Ideas[2].Review.Expected != nil {
		t.Errorf("the idea without a forecast: %+v", res.Ideas[2])
	}
	for _, w := range []string{first.ID + " has the highest expected gain per unit of budget, 0.08", "log_loss -0.08", "against 0.016 for " + tweak.ID + " (the six criteria tie at 4"} {
		if !strings.Contains(res.Why, w) {
			t.Errorf("why lacks %q: %s", w, res.Why)
		}
	}
	if res.Rule != RankRule {
		t.Errorf("rule = %q", res.Rule)
	}
	if all := strings.Join(warned, "\n"); !strings.Contains(all, "has no valid expected gain") || !strings.Contains(all, "ranked by the review's criteria") {
		t.Errorf("warnings lack the degraded ranking:\n%s", all)
	}
	// The reviewer was told the metric and its direction, and its schema
	// bounds the cost by the task's limits.
	body, _ := json.Marshal(srv.Requests()[12].Body)
	for _, w := range []string{"log_loss, lower is better", `"maximum":24`, `"maximum":60`, `"enum":["low","medium","high"]`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("the review request lacks %s", w)
		}
	}
	// A retry for the missing forecast names what to give.
	body, _ = json.Marshal(srv.Requests()[16].Body)
	if !strings.Contains(string(body), "expected is missing") {
		t.Errorf("the retry does not say the forecast is missing: %s", body)
	}
}

// With the guard failed by every idea and no forecasts, the criteria rank
// and the reason says so.
func TestRankWithoutForecasts(t *testing.T) {
	a := Idea{ID: "idea-1", Review: &Review{Validity: Judgement{Score: 2}, Feasibility: Judgement{Score: 5}, Clarity: Judgement{Score: 5}}}
	b := Idea{ID: "idea-2", Review: &Review{Validity: Judgement{Score: 2}, Feasibility: Judgement{Score: 1}}}
	ideas, why := rankByGain([]Idea{b, a}, Budget{}, func(string) {})
	if ideas[0].ID != "idea-1" || !strings.Contains(why, "no idea has validity and feasibility of at least 3") {
		t.Errorf("first %s, why %q", ideas[0].ID, why)
	}
}
