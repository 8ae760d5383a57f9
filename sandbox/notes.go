package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// formatSize renders a limit: "4 GiB", "512 MiB", "1.5 GiB", "100 B".
func formatSize(n int64) string {
	u, unit := sizeUnit(n)
	if n%u == 0 {
		return fmt.Sprintf("%d %s", n/u, unit)
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(u), unit)
}

// formatAmount renders an amount, always with one decimal above bytes:
// "1.0 GiB", "3.2 MiB", "512 B".
func formatAmount(n int64) string {
	u, unit := sizeUnit(n)
	if u == 1 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(u), unit)
}

func sizeUnit(n int64) (int64, string) {
	switch {
	case n >= 1<<40:
		return 1 << 40, "TiB"
	case n >= 1<<30:
		return 1 << 30, "GiB"
	case n >= 1<<20:
		return 1 << 20, "MiB"
	case n >= 1<<10:
		return 1 << 10, "KiB"
	}
	return 1, "B"
}

// formatSeconds renders a duration in seconds: "600 s", "2 s", "0.5 s".
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// outputNote says which streams were cut, or "" when none was.
func outputNote(limit int64, stdout, stderr Output) string {
	var cut []string
	if stdout.Truncated {
		cut = append(cut, "stdout: "+formatAmount(stdout.Total)+" written")
	}
	if stderr.Truncated {
		cut = append(cut, "stderr: "+formatAmount(stderr.Total)+" written")
	}
	if len(cut) == 0 {
		return ""
	}
	return fmt.Sprintf("output truncated at %s (%s)", formatSize(limit), strings.Join(cut, ", "))
}

// leftoverNote names the background processes that were killed.
func leftoverNote(n int, names []string) string {
	const s = "background processes were left running and have been killed"
	if n == 0 {
		return s
	}
	if len(names) > 5 {
		names = append(names[:5:5], "…")
	}
	return fmt.Sprintf("%s (%d: %s)", s, n, strings.Join(names, ", "))
}

// Signs in stderr that a limit enforced by an rlimit (not a cgroup) was hit.
var (
	memorySigns = []string{"MemoryError", "Cannot allocate memory", "can't allocate memory",
		"std::bad_alloc", "out of memory"}
	forkSigns = []string{"Resource temporarily unavailable", "Cannot fork", "can't fork",
		"fork: retry"}
	fileSizeSigns = []string{"File too large", "File size limit exceeded"}
	cpuSigns      = []string{"CPU time limit exceeded"}
)

func hasAny(s string, signs []string) bool {
	for _, sign := range signs {
		if strings.Contains(s, sign) {
			return true
		}
	}
	return false
}
