package report

import (
	"strings"
)

// mdEscaper backslash-escapes what would make text from a model or a
// paper into markup that acts: HTML tags, links and images (a Markdown
// image loads when the report is viewed), and backslashes themselves.
var mdEscaper = strings.NewReplacer(`\`, `\\`, `<`, `\<`, `>`, `\>`, `[`, `\[`, `]`, `\]`)

// mdText escapes a block of text: every line, and a heading marker that
// starts a line, so the text cannot restructure the report.
func mdText(s string) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")), "\n")
	for i, l := range lines {
		l = mdEscaper.Replace(l)
		if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, "#") {
			l = l[:len(l)-len(t)] + `\` + t
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// mdInline escapes text for one line or a table cell.
func mdInline(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return dash
	}
	return strings.ReplaceAll(mdEscaper.Replace(s), "|", `\|`)
}

// mdCode returns s as an inline code span, with a fence longer than any
// run of backticks in it.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return dash
	}
	f := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return strings.ReplaceAll(f+s+f, "|", `\|`)
}

// fenced returns s as a fenced code block.
func fenced(s, lang string) string {
	f := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	s = strings.TrimRight(s, "\n")
	return f + lang + "\n" + s + "\n" + f + "\n"
}

func longestRun(s string, c byte) int {
	n, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			n = max(n, run)
		} else {
			run = 0
		}
	}
	return n
}

// mdTable writes a table; cells are written as given (escape them first).
// align has an 'r' for each column to align right (numbers); columns past
// its end align left.
func mdTable(b *strings.Builder, header []string, align string, rows [][]string) {
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	row(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
		if i < len(align) && align[i] == 'r' {
			sep[i] = "---:"
		}
	}
	row(sep)
	for _, r := range rows {
		row(r)
	}
	b.WriteString("\n")
}
