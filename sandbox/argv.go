package sandbox

// Argv returns the bwrap command line Run would start for spec, argv[0]
// included, without the shim, cgroup, uid drop, seccomp filter or limits
// around it. bwrap expects a file descriptor 5 (--json-status-fd). It is for measuring what the
// sandbox adds over bwrap itself (mlrc bench perf).
func (b *Bwrap) Argv(spec Spec) ([]string, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	spec, err := check(spec)
	if err != nil {
		return nil, err
	}
	env, err := environ(spec.Env)
	if err != nil {
		return nil, err
	}
	srcs := make([]string, len(spec.Mounts))
	for i, m := range spec.Mounts {
		srcs[i] = m.Source
	}
	a, err := b.args(spec, env, srcs, Limits{}.withDefaults())
	if err != nil {
		return nil, err
	}
	// The filter is read from descriptor 7 by Run; leave it out here.
	for i := 0; i+1 < len(a); i++ {
		if a[i] == "--seccomp" {
			a = append(a[:i], a[i+2:]...)
			break
		}
	}
	return a, nil
}
