package sandbox

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// defaultEnv is set inside the sandbox unless Spec.Env says otherwise:
// one thread per numeric library (the limits are per run, not per core),
// no .pyc files in the workspace, unbuffered Python output.
var defaultEnv = map[string]string{
	"PATH":                    "/usr/local/bin:/usr/bin:/bin",
	"HOME":                    "/tmp",
	"LANG":                    "C.UTF-8",
	"OMP_NUM_THREADS":         "1",
	"OPENBLAS_NUM_THREADS":    "1",
	"MKL_NUM_THREADS":         "1",
	"PYTHONDONTWRITEBYTECODE": "1",
	"PYTHONUNBUFFERED":        "1",
}

// environ is the command's whole environment, sorted: spec.Env plus the
// defaults it does not set. Nothing comes from mlrc's own environment.
func environ(env map[string]string) ([]string, error) {
	all := make(map[string]string, len(env)+len(defaultEnv))
	for k, v := range defaultEnv {
		all[k] = v
	}
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("sandbox: invalid environment variable %q", k)
		}
		all[k] = v
	}
	out := make([]string, 0, len(all))
	for k, v := range all {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// check validates a spec and fills in mount targets and the directory:
// Dir defaults to the first writable mount, else the first mount, else /tmp.
func check(spec Spec) (Spec, error) {
	if len(spec.Command) == 0 {
		return spec, fmt.Errorf("sandbox: empty command")
	}
	ms := make([]Mount, len(spec.Mounts))
	for i, m := range spec.Mounts {
		if m.Target == "" {
			m.Target = m.Source
		}
		if !filepath.IsAbs(m.Source) || !filepath.IsAbs(m.Target) {
			return spec, fmt.Errorf("sandbox: mount %s → %s: paths must be absolute", m.Source, m.Target)
		}
		m.Source, m.Target = filepath.Clean(m.Source), filepath.Clean(m.Target)
		if m.Target == "/" {
			return spec, fmt.Errorf("sandbox: mount %s: cannot replace the root", m.Source)
		}
		ms[i] = m
	}
	if spec.Dir == "" {
		spec.Dir = defaultDir(ms)
	}
	// Parents before children, whatever order the caller used.
	sort.SliceStable(ms, func(i, j int) bool { return depth(ms[i].Target) < depth(ms[j].Target) })
	spec.Mounts = ms
	for _, p := range spec.ReadOnly {
		if !filepath.IsAbs(p) {
			return spec, fmt.Errorf("sandbox: read-only path %s must be absolute", p)
		}
	}
	if !filepath.IsAbs(spec.Dir) {
		return spec, fmt.Errorf("sandbox: directory %s must be absolute", spec.Dir)
	}
	spec.Env = gpuEnv(spec.Env, spec.GPUDevices)
	return spec, nil
}

func defaultDir(ms []Mount) string {
	for _, m := range ms {
		if m.Writable {
			return m.Target
		}
	}
	if len(ms) > 0 {
		return ms[0].Target
	}
	return "/tmp"
}

func depth(p string) int { return strings.Count(p, "/") }

// hostPath maps a path inside the sandbox to the host path and the mount
// it lies in (the deepest mount containing it); ok is false outside mounts.
func hostPath(mounts []Mount, p string) (host string, m Mount, ok bool) {
	p = filepath.Clean(p)
	best := -1
	for i, mt := range mounts {
		if within(mt.Target, p) && (best < 0 || depth(mt.Target) > depth(mounts[best].Target)) {
			best = i
		}
	}
	if best < 0 {
		return "", Mount{}, false
	}
	m = mounts[best]
	rel, _ := filepath.Rel(m.Target, p)
	return filepath.Join(m.Source, rel), m, true
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
