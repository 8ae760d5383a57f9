package report

import (
	"strings"
	"testing"
)

// TestNoveltyCheckRendered: the chosen idea's novelty check (decision,
// reason, closest works, each round's searches and hits) is in both
// reports, and the ranking shows each idea's decision; untrusted text is
// escaped.
func TestNoveltyCheckRendered(t *testing.T) {
	d := example()
	d.Chosen.NoveltyCheck = &NoveltyCheck{
		Decision: "incremental", Reason: "random erasing exists for CNNs; applying it to an MLP on 8x8 digits is a small change",
		Closest: []NoveltyWork{{Ref: Ref{ID: "1708.04896", Source: "index", Title: "Random Erasing Data Augmentation"}, How: "the same augmentation, on CNNs"}},
		Rounds: []NoveltyRound{
			{Queries: []string{"random erasing augmentation", "cutout MLP"}, Hits: []Ref{{ID: "1708.04896", Source: "index", Title: "Random Erasing Data Augmentation"}}},
			{Queries: []string{"erasing <script>small images</script>"}},
		},
	}
	d.Alternatives[0].NoveltyCheck = &NoveltyCheck{Decision: "known"}
	md := Markdown(d)
	page, err := HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Novelty check: incremental.** random erasing exists for CNNs", "the same augmentation, on CNNs",
		"Round 1 searched random erasing augmentation; cutout MLP: 1 new work(s)", "Round 2 searched", ": 0 new work(s)", "| known |", "**novelty** incremental"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{"<dt>Novelty check</dt>", "<strong>incremental.</strong>", "Round 1 searched random erasing augmentation; cutout MLP: 1 new work(s)",
		"the same augmentation, on CNNs", "&lt;script&gt;", ">known<"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>small") {
		t.Error("a query's markup reached the HTML unescaped")
	}
}
