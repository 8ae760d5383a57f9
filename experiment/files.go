package experiment

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"

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

// Bounds of a listing: entries in all, and entries read of one directory.
const (
	maxEntries = 300
	maxDirRead = 2000
)

func listFilesTool(w *Workspace) agent.Tool {
	return agent.NewFunc("list_files", doc("list_files"), func(ctx context.Context, p listParams) (agent.Result, error) {
		rel, shown, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		info, err := w.fsys.Lstat(rel)
		if err != nil {
			return toolError("cannot list %s: %v", shown, cleanPathErr(err))
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				return toolError("%v", errNotRegular(shown, info.Mode()))
			}
			return agent.Result{Content: fmt.Sprintf("%s  (%s)", shown, humanBytes(info.Size())), Summary: fmt.Sprintf("list_files(%s): a file", shown)}, nil
		}
		depth := p.Depth
		if depth <= 0 {
			depth = 3
		}
		l := &lister{w: w, depth: depth}
		l.walk(ctx, rel, "", 0)
		if len(l.lines) == 0 {
			return agent.Result{Content: fmt.Sprintf("%s is empty.", shown)}, nil
		}
		out := strings.Join(l.lines, "\n")
		if l.full {
			out += fmt.Sprintf("\n… (listing stopped at %d entries; list a subdirectory)", maxEntries)
		}
		for _, n := range l.notes {
			out += "\n" + n
		}
		return agent.Result{Content: out, Summary: fmt.Sprintf("list_files(%s): %d entries", shown, len(l.lines))}, nil
	})
}

// lister walks a directory tree through the workspace's root, reading at
// most maxDirRead entries of a directory and listing at most maxEntries.
type lister struct {
	w     *Workspace
	depth int
	lines []string
	notes []string
	full  bool
}

func (l *lister) walk(ctx context.Context, dir, prefix string, level int) {
	if l.full || ctx.Err() != nil {
		return
	}
	f, err := l.w.fsys.OpenFile(dir, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_DIRECTORY, 0)
	if err != nil {
		l.notes = append(l.notes, fmt.Sprintf("(cannot list %s: %v)", orDot(prefix), cleanPathErr(err)))
		return
	}
	entries, err := f.ReadDir(maxDirRead + 1)
	f.Close()
	if err != nil && len(entries) == 0 && err != io.EOF {
		l.notes = append(l.notes, fmt.Sprintf("(cannot list %s: %v)", orDot(prefix), cleanPathErr(err)))
		return
	}
	if len(entries) > maxDirRead {
		entries = entries[:maxDirRead]
		l.notes = append(l.notes, fmt.Sprintf("(%s holds more than %d entries; only the first %d read are listed)", orDot(prefix), maxDirRead, maxDirRead))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if len(l.lines) >= maxEntries {
			l.full = true
			return
		}
		name := e.Name()
		r := prefix + name
		switch t := e.Type(); {
		case name == "__pycache__":
		case t.IsDir():
			l.lines = append(l.lines, r+"/")
			if level+1 < l.depth {
				l.walk(ctx, path.Join(dir, name), r+"/", level+1)
			}
		case t&fs.ModeSymlink != 0:
			target, _ := l.w.fsys.Readlink(path.Join(dir, name))
			l.lines = append(l.lines, fmt.Sprintf("%s -> %s", r, target))
		case t.IsRegular():
			size := int64(0)
			if info, err := e.Info(); err == nil {
				size = info.Size()
			}
			l.lines = append(l.lines, fmt.Sprintf("%s  (%s)", r, humanBytes(size)))
		default:
			l.lines = append(l.lines, fmt.Sprintf("%s  (%s: the tools refuse it)", r, kindOf(t)))
		}
	}
}

func orDot(prefix string) string {
	if prefix == "" {
		return "."
	}
	return strings.TrimSuffix(prefix, "/")
}

type readParams struct {
	Path      string `json:"path" jsonschema:"file relative to the workspace"`
	StartLine int    `json:"start_line,omitempty" jsonschema:"first line to show (1-based); default 1"`
	EndLine   int    `json:"end_line,omitempty" jsonschema:"last line to show; default start_line+199"`
}

// Bounds of read_file: the bytes of one line shown, and how far into a
// file it reads (to count its lines and to reach start_line).
const (
	maxLineShown = 2000
	maxScan      = 1 << 30
)

func readFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("read_file", doc("read_file"), func(ctx context.Context, p readParams) (agent.Result, error) {
		rel, shown, err := w.resolve(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		f, info, err := w.open(rel, shown)
		if err != nil {
			return toolError("%v", err)
		}
		defer f.Close()
		start := max(1, p.StartLine)
		end := p.EndLine
		if end <= 0 {
			end = start + 199
		}
		end = min(max(end, start), start+399)
		sc, err := scanLines(ctx, f, start, end, maxScan)
		switch {
		case err != nil:
			return toolError("cannot read %s: %v", shown, cleanPathErr(err))
		case sc.binary:
			return toolError("%s is a binary file (%s); use inspect_data for data files", shown, humanBytes(info.Size()))
		case sc.total == 0 && sc.complete:
			return agent.Result{Content: fmt.Sprintf("%s is empty.", shown), Summary: fmt.Sprintf("read_file(%s): empty", shown)}, nil
		case len(sc.lines) == 0 && sc.complete:
			return toolError("%s has %d lines; start_line %d is past the end", shown, sc.total, start)
		case len(sc.lines) == 0:
			return toolError("start_line %d is past the first %s of %s (%s), as far as read_file reads", start, humanBytes(maxScan), shown, humanBytes(info.Size()))
		}
		end = start + len(sc.lines) - 1
		total := fmt.Sprint(sc.total)
		if !sc.complete {
			total = fmt.Sprintf("at least %d (counted in the first %s of %s)", sc.total, humanBytes(maxScan), humanBytes(info.Size()))
		}
		var out strings.Builder
		fmt.Fprintf(&out, "%s, lines %d-%d of %s:\n", shown, start, end, total)
		for i, l := range sc.lines {
			fmt.Fprintf(&out, "%5d  %s\n", start+i, l)
		}
		if end < sc.total || !sc.complete {
			fmt.Fprintf(&out, "… %d more lines (read on with start_line=%d)\n", sc.total-end, end+1)
		}
		return agent.Result{Content: out.String(), Summary: fmt.Sprintf("read_file(%s %d-%d of %d)", shown, start, end, sc.total)}, nil
	})
}

// scanned is what scanLines read of a file.
type scanned struct {
	lines    []string // lines start..end, each clipped to maxLineShown bytes
	total    int      // lines counted
	complete bool     // the whole file was read
	binary   bool     // a NUL byte in its first 8000 bytes
}

// scanLines reads r in chunks, keeping only lines start..end (1-based),
// each clipped, and counting the others: its memory does not grow with the
// file, its lines or their lengths. It stops after limit bytes.
func scanLines(ctx context.Context, r io.Reader, start, end int, limit int64) (scanned, error) {
	var s scanned
	buf := make([]byte, 64<<10)
	var cur []byte   // the kept part of the current line
	curLen := 0      // its full length
	line := 1        // the current line's number
	partial := false // bytes of the current line have been read
	var read int64
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		if read >= limit {
			// At the limit: complete only if the file ends here.
			if n, err := r.Read(buf[:1]); n == 0 && err == io.EOF {
				s.complete = true
			}
			break
		}
		n, err := r.Read(buf[:min(int64(len(buf)), limit-read)])
		chunk := buf[:n]
		if read == 0 && bytes.IndexByte(chunk[:min(n, 8000)], 0) >= 0 {
			s.binary = true
			return s, nil
		}
		read += int64(n)
		for len(chunk) > 0 {
			if line > end {
				line += bytes.Count(chunk, []byte{'\n'})
				partial = chunk[len(chunk)-1] != '\n'
				break
			}
			i := bytes.IndexByte(chunk, '\n')
			part := chunk
			if i >= 0 {
				part, chunk = chunk[:i], chunk[i+1:]
			} else {
				chunk = nil
			}
			if line >= start {
				if room := maxLineShown - len(cur); room > 0 {
					cur = append(cur, part[:min(len(part), room)]...)
				}
				curLen += len(part)
			}
			if i < 0 {
				partial = true
				break
			}
			if line >= start {
				s.lines = append(s.lines, shownLine(cur, curLen))
			}
			cur, curLen, partial = cur[:0], 0, false
			line++
		}
		if err == io.EOF {
			s.complete = true
			break
		}
		if err != nil {
			return s, err
		}
	}
	if partial && s.complete {
		if line >= start && line <= end {
			s.lines = append(s.lines, shownLine(cur, curLen))
		}
		line++
	}
	s.total = line - 1
	return s, nil
}

// shownLine is a line as read_file shows it: clipped, CR of CRLF dropped.
func shownLine(kept []byte, n int) string {
	s := strings.TrimSuffix(strings.ToValidUTF8(string(kept), "\uFFFD"), "\r")
	if n > len(kept) {
		s += fmt.Sprintf(" … [line of %s clipped]", humanBytes(int64(n)))
	}
	return s
}

type editParams struct {
	Path    string `json:"path" jsonschema:"file relative to the workspace"`
	OldText string `json:"old_text" jsonschema:"exact text to replace; must occur exactly once"`
	NewText string `json:"new_text" jsonschema:"replacement text"`
}

func editFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("edit_file", doc("edit_file"), func(_ context.Context, p editParams) (agent.Result, error) {
		rel, shown, err := w.writable(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		if _, err := w.fsys.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
			return toolError("cannot edit %s: it does not exist (use write_file to create a file)", shown)
		}
		b, tooBig, err := w.readWhole(rel, shown)
		if err != nil {
			return toolError("%v", err)
		}
		if tooBig {
			return toolError("%s is larger than %s, too large for edit_file; replace it whole with write_file, or change the code that makes it", shown, humanBytes(maxWhole))
		}
		text := string(b)
		if p.OldText == "" {
			return toolError("old_text is empty: give the exact text to replace")
		}
		n := strings.Count(text, p.OldText)
		switch {
		case n == 0:
			return toolError("old_text does not occur in %s, so nothing was changed.%s Read the file again and copy the text exactly, including indentation.", shown, nearest(text, p.OldText))
		case n > 1:
			return toolError("old_text occurs %d times in %s (at lines %s), so nothing was changed. Include more surrounding lines to make it unique.", n, shown, lineNumbers(text, p.OldText))
		}
		i := strings.Index(text, p.OldText)
		updated := text[:i] + p.NewText + text[i+len(p.OldText):]
		if err := w.write(rel, shown, []byte(updated)); err != nil {
			return toolError("%v", err)
		}
		line := strings.Count(text[:i], "\n") + 1
		return agent.Result{
			Content: fmt.Sprintf("Edited %s at line %d: replaced %d line(s) with %d line(s).", shown, line, strings.Count(p.OldText, "\n")+1, strings.Count(p.NewText, "\n")+1),
			Summary: fmt.Sprintf("edit_file(%s, line %d)", shown, line),
		}, nil
	})
}

type writeParams struct {
	Path    string `json:"path" jsonschema:"file relative to the workspace"`
	Content string `json:"content" jsonschema:"the whole new content of the file"`
}

func writeFileTool(w *Workspace) agent.Tool {
	return agent.NewFunc("write_file", doc("write_file"), func(_ context.Context, p writeParams) (agent.Result, error) {
		rel, shown, err := w.writable(p.Path)
		if err != nil {
			return toolError("%v", err)
		}
		if rel == "." {
			return toolError("write_file needs a file path, such as train.py")
		}
		if err := w.write(rel, shown, []byte(p.Content)); err != nil {
			return toolError("%v", err)
		}
		n := strings.Count(p.Content, "\n")
		return agent.Result{Content: fmt.Sprintf("Wrote %s (%d lines).", shown, n), Summary: fmt.Sprintf("write_file(%s, %d lines)", shown, n)}, nil
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
