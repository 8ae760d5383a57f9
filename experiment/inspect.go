package experiment

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mlrc/mlrc/agent"
)

type inspectParams struct {
	Path string `json:"path" jsonschema:"data file relative to the workspace"`
	Rows int    `json:"rows,omitempty" jsonschema:"how many first rows to show; default 5"`
}

// Bounds of inspect_data: how far into a CSV file it reads, the longest
// record it parses, the columns it describes, the bytes of a value it keeps.
const (
	maxCSVScan    = 256 << 20
	maxRecord     = 1 << 20
	maxColumns    = 200
	maxValueBytes = 200
)

func inspectDataTool(w *Workspace) agent.Tool {
	return agent.NewFunc("inspect_data", doc("inspect_data"), func(ctx context.Context, p inspectParams) (agent.Result, error) {
		rel, shown, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		if info, err := w.fsys.Lstat(rel); err == nil && info.IsDir() {
			return toolError("%s is a directory; use list_files", shown)
		}
		f, info, err := w.open(rel, shown)
		if err != nil {
			return toolError("%v", err)
		}
		defer f.Close()
		rows := p.Rows
		if rows <= 0 {
			rows = 5
		}
		rows = min(rows, 100)
		lower := strings.ToLower(rel)
		if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".tsv") {
			sep := ','
			if strings.HasSuffix(lower, ".tsv") {
				sep = '\t'
			}
			out, err := describeCSV(ctx, f, sep, rows, maxCSVScan)
			if err != nil {
				return toolError("%s: %v", shown, err)
			}
			return agent.Result{Content: fmt.Sprintf("%s (%s)\n%s", shown, humanBytes(info.Size()), out), Summary: "inspect_data(" + shown + ")"}, nil
		}
		head := make([]byte, 2000)
		n, _ := io.ReadFull(f, head)
		if isBinary(head[:n]) {
			return agent.Result{Content: fmt.Sprintf("%s: binary file, %s.", shown, humanBytes(info.Size()))}, nil
		}
		return agent.Result{Content: fmt.Sprintf("%s (%s), first bytes:\n%s", shown, humanBytes(info.Size()), strings.ToValidUTF8(string(head[:n]), "\uFFFD"))}, nil
	})
}

// recordLimit feeds a csv.Reader and fails a record longer than max: the
// reader buffers a whole record, however long.
type recordLimit struct {
	r    io.Reader
	cr   *csv.Reader
	read int64
	max  int64
}

var errLongRecord = errors.New("record too long")

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.cr != nil && l.read-l.cr.InputOffset() > l.max {
		return 0, errLongRecord
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// describeCSV reads a CSV file, up to limit bytes, and says its shape, its
// columns and their types, the missing values and the first rows. Its
// memory is bounded by maxRecord, maxColumns and maxValueBytes.
func describeCSV(ctx context.Context, r io.Reader, sep rune, show int, limit int64) (string, error) {
	lim := &recordLimit{r: io.LimitReader(r, limit), max: maxRecord}
	cr := csv.NewReader(bufio.NewReader(lim))
	lim.cr = cr
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err != nil {
		if errors.Is(err, errLongRecord) {
			return "", fmt.Errorf("cannot read the header: its first line is longer than %s", humanBytes(maxRecord))
		}
		return "", fmt.Errorf("cannot read the header: %v", err)
	}
	header := clipAll(rec)
	type col struct {
		missing, numeric, ints int
		distinct               map[string]bool
	}
	cols := make([]col, min(len(header), maxColumns))
	for i := range cols {
		cols[i].distinct = map[string]bool{}
	}
	var first []string
	n, ragged := 0, 0
	var stop string
	for {
		if n%4096 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		rec, err := cr.Read()
		if err == io.EOF {
			if lim.read >= limit {
				stop = fmt.Sprintf("read the first %s only: the shape counts the rows in it", humanBytes(limit))
			}
			break
		}
		if errors.Is(err, errLongRecord) {
			stop = fmt.Sprintf("row %d is longer than %s: stopped there; the shape counts the rows before it", n+2, humanBytes(maxRecord))
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
			first = append(first, agent.Clip(strings.Join(clipAll(rec), string(sep)), 300))
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
				c.distinct[clip(v)] = true
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "shape: %d rows × %d columns\n", n, len(header))
	if stop != "" {
		fmt.Fprintf(&b, "note: %s\n", stop)
	}
	if ragged > 0 {
		fmt.Fprintf(&b, "warning: %d rows do not have %d fields\n", ragged, len(header))
	}
	b.WriteString("columns:\n")
	for i, c := range cols {
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
		fmt.Fprintf(&b, "  %-24s %-8s missing %d, distinct %s\n", header[i], kind, c.missing, distinct)
	}
	if len(header) > len(cols) {
		fmt.Fprintf(&b, "  … and %d more columns\n", len(header)-len(cols))
	}
	fmt.Fprintf(&b, "first %d rows:\n%s\n", len(first), agent.Clip(strings.Join(header, string(sep)), 2000))
	for _, r := range first {
		b.WriteString(r + "\n")
	}
	return b.String(), nil
}

// clip returns a copy of v of at most maxValueBytes, not sharing the
// reader's memory.
func clip(v string) string {
	if len(v) > maxValueBytes {
		v = strings.ToValidUTF8(v[:maxValueBytes], "") + "…"
	}
	return strings.Clone(v)
}

func clipAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = clip(v)
	}
	return out
}
