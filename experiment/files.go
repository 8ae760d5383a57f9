package experiment

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlrc/mlrc/agent"
)

//go:embed tooldocs/*.md
var toolDocs embed.FS

// doc returns a tool's description from tooldocs/NAME.md.
func doc(name string) string {
	b, err := toolDocs.ReadFile("tooldocs/" + name + ".md")
	if err != nil {
		panic("experiment: no description for tool " + name)
	}
	return string(b)
}

// toolError is a failure the model should see.
func toolError(format string, args ...any) (agent.Result, error) {
	return agent.Result{Content: fmt.Sprintf(format, args...), IsError: true}, nil
}

type listParams struct {
	Path  string `json:"path,omitempty" jsonschema:"directory relative to the workspace; default the workspace root"`
	Depth int    `json:"depth,omitempty" jsonschema:"how many levels to descend; default 3"`
}

func listFilesTool(w *Workspace) agent.Tool {
	return agent.NewFunc("list_files", doc("list_files"), func(_ context.Context, p listParams) (agent.Result, error) {
		abs, rel, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		depth := p.Depth
		if depth <= 0 {
			depth = 3
		}
		var lines []string
		const maxEntries = 300
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			r, _ := filepath.Rel(abs, path)
			if r == "." {
				return nil
			}
			if strings.Count(r, string(filepath.Separator)) >= depth {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			if len(lines) >= maxEntries {
				return fs.SkipAll
			}
			if d.IsDir() {
				lines = append(lines, r+"/")
				return nil
			}
			info, err := d.Info()
			size := int64(0)
			if err == nil {
				size = info.Size()
			}
			lines = append(lines, fmt.Sprintf("%s  (%s)", r, humanBytes(size)))
			return nil
		})
		if err != nil {
			return toolError("%v", err)
		}
		if len(lines) == 0 {
			return agent.Result{Content: fmt.Sprintf("%s is empty.", rel)}, nil
		}
		sort.Strings(lines)
		out := strings.Join(lines, "\n")
		if len(lines) >= maxEntries {
			out += fmt.Sprintf("\n… (listing stopped at %d entries; list a subdirectory)", maxEntries)
		}
		return agent.Result{Content: out, Summary: fmt.Sprintf("list_files(%s): %d entries", rel, len(lines))}, nil
	})
}

type readParams struct {
	Path      string `json:"path" jsonschema:"file relative to the workspace"`
	StartLine int    `json:"start_line,omitempty" jsonschema:"first line to show (1-based); default 1"`
	EndLine   int    `json:"end_line,omitempty" jsonschema:"last line to show; default start_line+199"`
}

func readFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("read_file", doc("read_file"), func(_ context.Context, p readParams) (agent.Result, error) {
		abs, rel, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return toolError("cannot read %s: %v", rel, cleanErr(err, abs, rel))
		}
		if isBinary(b) {
			return toolError("%s is a binary file (%s); use inspect_data for data files", rel, humanBytes(int64(len(b))))
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		start := max(1, p.StartLine)
		end := p.EndLine
		if end <= 0 {
			end = start + 199
		}
		end = min(end, start+399, len(lines))
		if start > len(lines) {
			return toolError("%s has %d lines; start_line %d is past the end", rel, len(lines), start)
		}
		var out strings.Builder
		fmt.Fprintf(&out, "%s, lines %d-%d of %d:\n", rel, start, end, len(lines))
		for i := start; i <= end; i++ {
			fmt.Fprintf(&out, "%5d  %s\n", i, lines[i-1])
		}
		if end < len(lines) {
			fmt.Fprintf(&out, "… %d more lines (read on with start_line=%d)\n", len(lines)-end, end+1)
		}
		return agent.Result{Content: out.String(), Summary: fmt.Sprintf("read_file(%s %d-%d of %d)", rel, start, end, len(lines))}, nil
	})
}

type editParams struct {
	Path    string `json:"path" jsonschema:"file relative to the workspace"`
	OldText string `json:"old_text" jsonschema:"exact text to replace; must occur exactly once"`
	NewText string `json:"new_text" jsonschema:"replacement text"`
}

func editFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("edit_file", doc("edit_file"), func(_ context.Context, p editParams) (agent.Result, error) {
		abs, rel, err := w.writable(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return toolError("cannot edit %s: %v (use write_file to create a file)", rel, cleanErr(err, abs, rel))
		}
		text := string(b)
		if p.OldText == "" {
			return toolError("old_text is empty: give the exact text to replace")
		}
		n := strings.Count(text, p.OldText)
		switch {
		case n == 0:
			return toolError("old_text does not occur in %s, so nothing was changed.%s Read the file again and copy the text exactly, including indentation.", rel, nearest(text, p.OldText))
		case n > 1:
			return toolError("old_text occurs %d times in %s (at lines %s), so nothing was changed. Include more surrounding lines to make it unique.", n, rel, lineNumbers(text, p.OldText))
		}
		i := strings.Index(text, p.OldText)
		updated := text[:i] + p.NewText + text[i+len(p.OldText):]
		if err := w.write(abs, rel, []byte(updated)); err != nil {
			return agent.Result{}, err
		}
		line := strings.Count(text[:i], "\n") + 1
		return agent.Result{
			Content: fmt.Sprintf("Edited %s at line %d: replaced %d line(s) with %d line(s).", rel, line, strings.Count(p.OldText, "\n")+1, strings.Count(p.NewText, "\n")+1),
			Summary: fmt.Sprintf("edit_file(%s, line %d)", rel, line),
		}, nil
	})
}

type writeParams struct {
	Path    string `json:"path" jsonschema:"file relative to the workspace"`
	Content string `json:"content" jsonschema:"the whole new content of the file"`
}

func writeFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("write_file", doc("write_file"), func(_ context.Context, p writeParams) (agent.Result, error) {
		abs, rel, err := w.writable(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		if err := w.write(abs, rel, []byte(p.Content)); err != nil {
			return toolError("cannot write %s: %v", rel, cleanErr(err, abs, rel))
		}
		n := strings.Count(p.Content, "\n")
		return agent.Result{Content: fmt.Sprintf("Wrote %s (%d lines).", rel, n), Summary: fmt.Sprintf("write_file(%s, %d lines)", rel, n)}, nil
	})
}

type undoParams struct{}

func undoTool(w *Workspace) agent.Tool {
	return agent.NewFunc("undo", doc("undo"), func(_ context.Context, _ undoParams) (agent.Result, error) {
		msg, err := w.undo()
		if err != nil {
			return toolError("%v", err)
		}
		return agent.Result{Content: msg}, nil
	})
}

// cleanErr keeps host paths out of messages to the model.
func cleanErr(err error, abs, rel string) string {
	return strings.ReplaceAll(err.Error(), abs, rel)
}

func isBinary(b []byte) bool {
	n := min(len(b), 8000)
	for _, c := range b[:n] {
		if c == 0 {
			return true
		}
	}
	return false
}

// lineNumbers lists the lines where sub starts in text.
func lineNumbers(text, sub string) string {
	var nums []string
	for off := 0; ; {
		i := strings.Index(text[off:], sub)
		if i < 0 || len(nums) >= 10 {
			break
		}
		nums = append(nums, fmt.Sprint(strings.Count(text[:off+i], "\n")+1))
		off += i + max(1, len(sub))
	}
	return strings.Join(nums, ", ")
}

// nearest points at the line most like the first line of want, to help the
// model see its mistake.
func nearest(text, want string) string {
	first := strings.TrimSpace(strings.SplitN(want, "\n", 2)[0])
	if first == "" {
		return ""
	}
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, first) {
			return fmt.Sprintf(" Its first line appears at line %d (%q): the difference is further on.", i+1, strings.TrimSpace(l))
		}
	}
	for i, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && strings.EqualFold(strings.Join(strings.Fields(t), " "), strings.Join(strings.Fields(first), " ")) {
			return fmt.Sprintf(" A line differing only in spacing or case is at line %d.", i+1)
		}
	}
	return ""
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
