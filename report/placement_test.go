package report

import (
	"strings"
	"testing"
)

func TestPlacementsSection(t *testing.T) {
	d := &Data{RunID: "r1", Placements: []Placement{
		{What: "experiment step 3", Where: "slurm job 812 on node1, 1 GPU (0 NVIDIA A100)", Seconds: 42.25, Resources: "1 CPU, 4.0 GiB, 1 GPU"},
		{What: "validation best seed 1", Where: "kubernetes job mlrc-run-ab <script> on n1", Seconds: 3},
	}}
	md := Markdown(d)
	for _, want := range []string{"## Where the runs ran", "| experiment step 3 | slurm job 812 on node1, 1 GPU (0 NVIDIA A100) | 42.2 s | 1 CPU, 4.0 GiB, 1 GPU |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	html, err := HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, "<h2>Where the runs ran</h2>") || !strings.Contains(html, "slurm job 812 on node1") {
		t.Error("report.html lacks the placements")
	}
	if strings.Contains(html, "<script> on n1") {
		t.Error("report.html does not escape a placement")
	}
	if md := Markdown(&Data{RunID: "r2"}); strings.Contains(md, "Where the runs ran") {
		t.Error("a report without placements has the section")
	}
}
