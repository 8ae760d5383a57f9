package experiment

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mlrc/mlrc/agent"
)

type inspectParams struct {
	Path string `json:"path" jsonschema:"data file relative to the workspace"`
	Rows int    `json:"rows,omitempty" jsonschema:"how many first rows to show; default 5"`
}

func inspectDataTool(w *Workspace) agent.Tool {
	return agent.NewFunc("inspect_data", doc("inspect_data"), func(_ context.Context, p inspectParams) (agent.Result, error) {
		abs, rel, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		f, err := os.Open(abs)
		if err != nil {
			return toolError("cannot open %s: %v", rel, cleanErr(err, abs, rel))
		}
		defer f.Close()
		info, _ := f.Stat()
		if info.IsDir() {
			return toolError("%s is a directory; use list_files", rel)
		}
		rows := p.Rows
		if rows <= 0 {
			rows = 5
		}
		lower := strings.ToLower(rel)
		if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".tsv") {
			sep := ','
			if strings.HasSuffix(lower, ".tsv") {
				sep = '\t'
			}
			out, err := describeCSV(f, sep, rows)
			if err != nil {
				return toolError("%s: %v", rel, err)
			}
			return agent.Result{Content: fmt.Sprintf("%s (%s)\n%s", rel, humanBytes(info.Size()), out), Summary: "inspect_data(" + rel + ")"}, nil
		}
		head := make([]byte, 2000)
		n, _ := io.ReadFull(f, head)
		if isBinary(head[:n]) {
			return agent.Result{Content: fmt.Sprintf("%s: binary file, %s.", rel, humanBytes(info.Size()))}, nil
		}
		return agent.Result{Content: fmt.Sprintf("%s (%s), first bytes:\n%s", rel, humanBytes(info.Size()), head[:n])}, nil
	})
}

// describeCSV reads a whole CSV file and says its shape, its columns and
// their types, the missing values and the first rows.
func describeCSV(r io.Reader, sep rune, show int) (string, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return "", fmt.Errorf("cannot read the header: %v", err)
	}
	type col struct {
		missing, numeric, ints int
		distinct               map[string]bool
	}
	cols := make([]col, len(header))
	for i := range cols {
		cols[i].distinct = map[string]bool{}
	}
	var first [][]string
	n, ragged := 0, 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("row %d: %v", n+2, err)
		}
		n++
		if len(rec) != len(header) {
			ragged++
		}
		if len(first) < show {
			first = append(first, rec)
		}
		for i := range min(len(rec), len(cols)) {
			v := strings.TrimSpace(rec[i])
			c := &cols[i]
			switch {
			case v == "" || strings.EqualFold(v, "nan") || strings.EqualFold(v, "na"):
				c.missing++
				continue
			}
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				c.numeric++
				if _, err := strconv.ParseInt(v, 10, 64); err == nil {
					c.ints++
				}
			}
			if len(c.distinct) <= 50 {
				c.distinct[v] = true
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "shape: %d rows × %d columns\n", n, len(header))
	if ragged > 0 {
		fmt.Fprintf(&b, "warning: %d rows do not have %d fields\n", ragged, len(header))
	}
	b.WriteString("columns:\n")
	for i, h := range header {
		c := cols[i]
		present := n - c.missing
		kind := "text"
		switch {
		case present > 0 && c.ints == present:
			kind = "integer"
		case present > 0 && c.numeric == present:
			kind = "float"
		}
		distinct := fmt.Sprint(len(c.distinct))
		if len(c.distinct) > 50 {
			distinct = ">50"
		}
		fmt.Fprintf(&b, "  %-24s %-8s missing %d, distinct %s\n", h, kind, c.missing, distinct)
	}
	fmt.Fprintf(&b, "first %d rows:\n%s\n", len(first), strings.Join(header, string(sep)))
	for _, r := range first {
		b.WriteString(agent.Clip(strings.Join(r, string(sep)), 300) + "\n")
	}
	return b.String(), nil
}
