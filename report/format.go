package report

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dash stands for a value that is missing.
const dash = "—"

// num formats a metric or statistic; NaN is a failed re-run.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "failed"
	case math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// novelty formats an idea's novelty score; NaN means it was not checked
// (no literature index).
func novelty(v float64) string {
	if math.IsNaN(v) {
		return "not checked"
	}
	return num(v)
}

// ideaNovelty is an idea's novelty: the check's decision, or the score.
func ideaNovelty(i Idea) string {
	if i.NoveltyCheck != nil {
		return i.NoveltyCheck.Decision
	}
	return novelty(i.Novelty)
}

// optNum formats a metric that may be missing (a failed run).
func optNum(v *float64, missing string) string {
	if v == nil {
		return missing
	}
	return num(*v)
}

// pValue formats a p-value.
func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return dash
	case p < 0.001:
		return "< 0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// percent formats a ratio as a signed percentage.
func percent(r float64) string {
	return fmt.Sprintf("%+.1f%%", 100*r)
}

// usd formats dollars.
func usd(v float64) string {
	return fmt.Sprintf("$%.4f", v)
}

// tokens formats a count with thousands separators.
func tokens(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// duration formats a wall time, to the second (to the millisecond below a
// second).
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return dash
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// timestamp formats a time in UTC.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// orDash returns s, or a dash when it is blank.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return dash
	}
	return s
}

// ints joins integers with commas.
func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// clip shortens s to at most n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// fileSize is a size in bytes for people: "812 B", "3.4 KiB", "1.9 MiB";
// "deleted" for a file the run removed (-1).
func fileSize(n int64) string {
	switch {
	case n < 0:
		return "deleted"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// localFileRe matches the paths mlrc links from a report: files in the
// run directory, below it, with plain names.
var localFileRe = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

// localFile reports whether p may be linked: a relative path of plain
// names, never a URL or a way out of the run directory.
func localFile(p string) bool {
	return localFileRe.MatchString(p) && !strings.Contains(p, "..")
}
