package report

import (
	"fmt"
	"strings"
)

// Placement is where one run ran and what it cost: an experiment step or
// a validation re-run, the executor, host, batch job and GPUs, its wall
// time and the resources it asked for.
type Placement struct {
	// What is "experiment step 3", "validation best seed 1", …
	What string
	// Where is "slurm job 12 on node1, 1 GPU (0)", "local on host".
	Where     string
	Seconds   float64
	Resources string // "1 CPU, 4.0 GiB"
}

func mdPlacements(b *strings.Builder, v *view) {
	if len(v.Placements) == 0 {
		return
	}
	b.WriteString("## Where the runs ran\n\n")
	var rows [][]string
	for _, p := range v.Placements {
		rows = append(rows, []string{mdInline(p.What), mdInline(p.Where), fmt.Sprintf("%.1f s", p.Seconds), mdInline(p.Resources)})
	}
	mdTable(b, []string{"Run", "Where", "Wall time", "Asked for"}, "llrl", rows)
}
