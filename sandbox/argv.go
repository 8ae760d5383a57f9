package sandbox

// Argv returns the bwrap command line Run would start for spec, argv[0]
// included, without the shim, cgroup or limits around it. bwrap expects a
// file descriptor 5 (--json-status-fd). It is for measuring what the
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
	return b.args(spec, env)
}
