package report

import (
	"strings"
	"testing"
)

// An idea's plan (Markdown-like text) keeps its structure in report.md and
// report.html: the title a subheading, labels bold, steps a numbered list.
func TestPlanMarkdown(t *testing.T) {
	plan := "# Char n-grams plus embeddings\n\nProblem: lexical overlap misses paraphrase.\n\nHypothesis: fusing both raises Spearman.\n\n" +
		"Experiment plan:\n- Datasets: data/train.csv\n- Models: ridge\n1. featurize\n2. fit\n"
	md := mdPlanText(plan)
	for _, want := range []string{"### Char n-grams plus embeddings\n", "**Problem:** lexical overlap misses paraphrase.\n",
		"- Datasets: data/train.csv\n- Models: ridge\n", "1. featurize\n2. fit\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown plan lacks %q:\n%s", want, md)
		}
	}
	h := string(htmlPlan(plan))
	for _, want := range []string{"<h3>Char n-grams plus embeddings</h3>", "<p><strong>Problem:</strong> lexical overlap misses paraphrase.</p>",
		"<ul>\n<li>Datasets: data/train.csv</li>\n<li>Models: ridge</li>\n</ul>", "<ol>\n<li>featurize</li>\n<li>fit</li>\n</ol>"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML plan lacks %q:\n%s", want, h)
		}
	}
}

// A JSON plan is rendered as fields, lists and subheadings, not dumped.
func TestPlanFromJSON(t *testing.T) {
	plan := `{"title": "Random erasing", "hypothesis": "erasing patches <b>helps</b>",
	  "experiment_plan": {"steps": ["add the transform", "tune p"], "success_criterion": "accuracy +0.01"}}`
	md := mdPlanText(plan)
	if strings.Contains(md, `{"`) || strings.Contains(md, `":`) {
		t.Errorf("the JSON plan is dumped:\n%s", md)
	}
	for _, want := range []string{"### Random erasing\n", "**Hypothesis:** erasing patches \\<b\\>helps\\</b\\>\n",
		"### Experiment plan\n", "- add the transform\n- tune p\n", "**Success criterion:** accuracy +0.01\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown plan lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "Hypothesis") > strings.Index(md, "Experiment plan") {
		t.Errorf("the hypothesis comes after the plan:\n%s", md)
	}
	h := string(htmlPlan(plan))
	if strings.Contains(h, "<b>") || !strings.Contains(h, "&lt;b&gt;helps") {
		t.Errorf("HTML plan does not escape the model's markup:\n%s", h)
	}
}
