package validate

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// The integrity checks of a Verdict, by name.
const (
	CheckTask       = "task and evaluator unchanged"
	CheckProtected  = "protected files unchanged"
	CheckHeldOut    = "held-out labels never visible to experiments"
	CheckEvaluator  = "metric from the evaluator"
	CheckReproduces = "reported metric reproduces"
	CheckReruns     = "every re-run succeeded"
)

// Check is one integrity check.
type Check struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

func pass(name, format string, args ...any) Check {
	return Check{Name: name, Passed: true, Detail: fmt.Sprintf(format, args...)}
}

func fail(name, format string, args ...any) Check {
	return Check{Name: name, Detail: fmt.Sprintf(format, args...)}
}

// checkTask compares the task's hash now with the one taken at the start.
func checkTask(t *task.Task, atStart string) Check {
	now, err := t.Hash()
	switch {
	case err != nil:
		return fail(CheckTask, "cannot hash the task: %v", err)
	case atStart == "":
		return fail(CheckTask, "no task hash from the start of the run to compare with (Config.TaskHash)")
	case now != atStart:
		return fail(CheckTask, "the task's files (task.yaml, evaluator, prepare script or workspace template) changed since the run started: hash %s at the start, %s now", short(atStart), short(now))
	}
	return pass(CheckTask, "task hash %s, as at the start of the run", short(now))
}

func short(h string) string { return h[:min(12, len(h))] }

// checkProtected compares the protected files of the best workspace with
// their hashes at the start (want); from says where want came from.
func checkProtected(best string, protected []string, want map[string]string, from string) Check {
	if len(protected) == 0 {
		return pass(CheckProtected, "the task protects no files")
	}
	got, err := HashProtected(best, protected)
	if err != nil {
		return fail(CheckProtected, "cannot read the best workspace's protected files: %v", err)
	}
	var problems []string
	for _, p := range sortedKeys(want) {
		h, ok := got[p]
		switch {
		case !ok:
			problems = append(problems, p+" removed")
		case h != want[p]:
			problems = append(problems, p+" changed")
		}
	}
	for _, p := range sortedKeys(got) {
		if _, ok := want[p]; !ok {
			problems = append(problems, p+" added")
		}
	}
	if len(problems) > 0 {
		return fail(CheckProtected, "%s (compared with %s)", joinAnd(problems), from)
	}
	return pass(CheckProtected, "%d protected files match %s", len(want), from)
}

// checkHeldOut verifies that no experiment could see the held-out labels:
// each re-run's experiment spec neither mounts the private directory nor
// leaves it uncovered, the sandbox is bubblewrap (the fallback shows the
// whole filesystem), and neither the best workspace nor any re-run's
// workspace holds a copy of, or a link to, held-out data.
func checkHeldOut(reruns []*rerun, bestLeaks []string) Check {
	var problems []string
	nSpecs := 0
	isolation := ""
	for _, rr := range reruns {
		where := fmt.Sprintf("%s at seed %d", rr.arm, rr.seed)
		for _, s := range rr.specs {
			nSpecs++
			if why := exposure(s, rr.layout.Private); why != "" {
				problems = append(problems, where+": "+why)
			}
		}
		if rr.isolation != "" && !strings.HasPrefix(rr.isolation, "bwrap") {
			problems = append(problems, fmt.Sprintf("%s: the sandbox cannot hide the filesystem (%s), so the experiment could read the held-out labels", where, rr.isolation))
		}
		if rr.isolation != "" {
			isolation = rr.isolation
		}
		for _, l := range rr.leaks {
			problems = append(problems, where+": "+l)
		}
	}
	for _, l := range bestLeaks {
		problems = append(problems, "best workspace: "+l)
	}
	switch {
	case len(problems) > 0:
		return fail(CheckHeldOut, "%s", joinSemi(dedupe(problems)))
	case nSpecs == 0:
		return fail(CheckHeldOut, "not verified: no experiment ran")
	}
	return pass(CheckHeldOut, "%d experiment runs: none mounted the private directory, each covered it (%s); no workspace copies or links to a held-out file", nSpecs, strings.SplitN(isolation, ";", 2)[0])
}

// exposure says how spec lets the command see the private directory, or
// "" when it does not: a mount of private or of something inside it, or of
// a directory above it without a later mount covering it; and it must be
// covered at its own path, in case the sandbox shows the host there.
func exposure(spec sandbox.Spec, private string) string {
	private = filepath.Clean(private)
	covered := func(from int, at string) bool {
		for _, m := range spec.Mounts[from:] {
			target := filepath.Clean(cmp.Or(m.Target, m.Source))
			if within(at, target) && !within(m.Source, private) && !within(private, m.Source) {
				return true
			}
		}
		return false
	}
	for i, m := range spec.Mounts {
		src := filepath.Clean(m.Source)
		target := filepath.Clean(cmp.Or(m.Target, m.Source))
		switch {
		case within(src, private):
			return fmt.Sprintf("the experiment's sandbox mounts %s (held-out) at %s", src, target)
		case within(private, src):
			rel, _ := filepath.Rel(src, private)
			at := filepath.Join(target, rel)
			if !covered(i+1, at) {
				return fmt.Sprintf("the experiment's sandbox mounts %s, which holds the held-out %s, at %s without covering it", src, private, target)
			}
		}
	}
	if !covered(0, private) {
		return fmt.Sprintf("the experiment's sandbox does not cover the private directory %s", private)
	}
	return ""
}

// checkEvaluator passes when every re-run of the best arm was scored by
// the evaluator.
func checkEvaluator(best Arm, seeds []int) Check {
	switch n := len(best.Values); {
	case n == 0:
		return fail(CheckEvaluator, "the best solution could not be evaluated at any seed: %s", joinSemi(best.Errors))
	case n < len(seeds):
		return fail(CheckEvaluator, "the evaluator scored the best solution at %d of %d seeds", n, len(seeds))
	}
	return pass(CheckEvaluator, "the evaluator scored fresh re-runs of the best solution at %s", seedList(best.Seeds))
}

// checkReproduces compares the reported metric with the best arm's
// re-runs: it must lie within their range, widened by the tolerance.
func checkReproduces(reported *float64, best Arm, seed int, tol Tolerance) Check {
	if reported == nil {
		return fail(CheckReproduces, "no reported metric to compare (Config.Reported)")
	}
	if len(best.Values) == 0 {
		return fail(CheckReproduces, "reported %.6g, but the best solution could not be re-run at any seed", *reported)
	}
	lo, hi := slices.Min(best.Values), slices.Max(best.Values)
	spread := fmt.Sprintf("%.6g", lo)
	if hi != lo {
		spread = fmt.Sprintf("%.6g to %.6g", lo, hi)
	}
	if i := slices.Index(best.Seeds, seed); i >= 0 {
		spread += fmt.Sprintf(" (%.6g at seed %d, the run's)", best.Values[i], seed)
	} else {
		spread += fmt.Sprintf(" (the run's seed %d could not be re-run)", seed)
	}
	d := math.Max(0, math.Max(lo-*reported, *reported-hi))
	allowed := tol.allowed(*reported, best.SD)
	rule := fmt.Sprintf("relative tolerance %g, absolute %g, plus %g × SD", tol.Relative, tol.Absolute, tol.SDs)
	if d <= allowed && !math.IsNaN(d) {
		return pass(CheckReproduces, "reported %.6g; the re-runs give %s, SD %.3g: within the allowed %.3g (%s)", *reported, spread, best.SD, allowed, rule)
	}
	return fail(CheckReproduces, "reported %.6g, but the re-runs give %s, SD %.3g: %.3g outside their range, more than the allowed %.3g (%s)", *reported, spread, best.SD, d, allowed, rule)
}

// checkReruns passes when no re-run failed.
func checkReruns(arms ...Arm) Check {
	var errs []string
	total := 0
	for _, a := range arms {
		total += len(a.Values) + len(a.Errors)
		for _, e := range a.Errors {
			errs = append(errs, a.Name+", "+e)
		}
	}
	if len(errs) > 0 {
		return fail(CheckReruns, "%d of %d re-runs failed: %s", len(errs), total, joinSemi(errs))
	}
	return pass(CheckReruns, "%d re-runs, each in a fresh layout", total)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// joinAnd joins phrases as "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func joinSemi(s []string) string { return strings.Join(s, "; ") }

// seedList says "seed 0" or "seeds 0, 1 and 2".
func seedList(seeds []int) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = fmt.Sprint(s)
	}
	if len(parts) == 1 {
		return "seed " + parts[0]
	}
	return "seeds " + joinAnd(parts)
}
