package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/providers"
	"github.com/mlrc/mlrc/sandbox"
)

// check is one line of `mlrc doctor`: OK, or what is wrong and what to do.
type check struct {
	name string
	ok   bool
	warn bool // a problem that does not stop mlrc from working
	text string
}

// pythonModules are the packages experiments import, with the distribution
// that installs each (what importlib.metadata knows it by) and the Debian
// package that provides it.
var pythonModules = []struct{ module, dist, pkg string }{
	{"numpy", "numpy", "python3-numpy"},
	{"pandas", "pandas", "python3-pandas"},
	{"sklearn", "scikit-learn", "python3-sklearn"},
	{"torch", "torch", "python3-torch"},
	{"xgboost", "xgboost", "python3-xgboost"},
}

// minFreeDisk is the free space below which doctor warns.
const minFreeDisk = 2 << 30

func (a *app) doctorCommand() *cobra.Command {
	var skipModel, whichModel bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that mlrc can work here: model, Python and packages, sandbox, store, disk",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if whichModel {
				// Resolution only, no call: make demo asks this to choose
				// between research and the rehearsal.
				name, err := a.modelName(ctx)
				if errors.Is(err, errNoModel) {
					fmt.Fprintln(a.env.Stdout, "none")
					return &exitError{code: 3, err: err}
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(a.env.Stdout, name)
				return nil
			}
			checks := []check{}
			if !skipModel {
				checks = append(checks, a.checkModel(ctx))
			}
			checks = append(checks, a.checkPython(ctx)...)
			checks = append(checks, a.checkSandbox(ctx), a.checkStore(ctx), a.checkDisk(), a.checkGPU(ctx))
			failed := 0
			for _, c := range checks {
				mark := "OK  "
				switch {
				case !c.ok && c.warn:
					mark = "WARN"
				case !c.ok:
					mark = "FAIL"
					failed++
				}
				fmt.Fprintf(a.env.Stdout, "%s %-9s %s\n", mark, c.name, c.text)
			}
			a.printIsolation(ctx)
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d check(s) failed; each FAIL line says what to do", failed)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&skipModel, "skip-model", false, "do not call the model")
	cmd.Flags().BoolVar(&whichModel, "which-model", false, "only print the model mlrc would use (no call); exit 3 with \"none\" when none is configured")
	return cmd
}

func (a *app) checkModel(ctx context.Context) check {
	c := check{name: "model"}
	name, err := a.modelName(ctx)
	if err != nil {
		c.text = strings.ReplaceAll(err.Error(), "\n", "\n               ")
		return c
	}
	backend, err := a.backend(name, nil)
	if err != nil {
		c.text = err.Error()
		return c
	}
	provider, model, _ := providers.Parse(name)
	p := llm.Stack{Provider: provider, Model: model, Retry: llm.RetryPolicy{Attempts: 2, Timeout: 60 * time.Second}}.Wrap(backend)
	start := time.Now()
	resp, err := p.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText("Reply with the single word OK.")}, MaxTokens: 16})
	if err != nil {
		c.text = fmt.Sprintf("%s does not answer: %s", name, a.redact.String(err.Error()))
		return c
	}
	c.ok = true
	c.text = fmt.Sprintf("%s answered %q in %s", name, truncate(strings.TrimSpace(resp.Text()), 40), time.Since(start).Round(time.Millisecond))
	return c
}

func (a *app) checkPython(ctx context.Context) []check {
	py := a.cfg.Python
	c := check{name: "python"}
	out, err := exec.CommandContext(ctx, py, "--version").CombinedOutput()
	if err != nil {
		c.text = fmt.Sprintf("%s does not run (%v): install python3 (apt-get install python3) or set python: in mlrc.yaml", py, err)
		return []check{c}
	}
	c.ok = true
	c.text = fmt.Sprintf("%s: %s", py, strings.TrimSpace(string(out)))
	checks := []check{c}

	results, err := pythonPackages(ctx, py)
	var missing, have []string
	for _, m := range pythonModules {
		if v, ok := results[m.module]; ok {
			have = append(have, m.module+" "+v)
		} else {
			missing = append(missing, m.pkg)
		}
	}
	pc := check{name: "packages"}
	switch {
	case err != nil && len(results) == 0:
		pc.text = fmt.Sprintf("could not ask %s for its packages: %v", py, err)
	case len(missing) > 0:
		pc.text = fmt.Sprintf("missing: apt-get install %s (have: %s)", strings.Join(missing, " "), strings.Join(have, ", "))
	default:
		pc.ok = true
		pc.text = strings.Join(have, ", ")
	}
	return append(checks, pc)
}

// pythonPackages asks py, in one interpreter start, for the version of each
// package experiments use. It reads the installed distributions' metadata
// rather than importing them (importing torch alone takes seconds and
// hundreds of MB); a module without metadata is imported as a last resort.
// Packages that are not installed are absent.
func pythonPackages(ctx context.Context, py string) (map[string]string, error) {
	var script strings.Builder
	script.WriteString("import importlib, importlib.metadata, importlib.util\n")
	for _, m := range pythonModules {
		fmt.Fprintf(&script, "try:\n    v = importlib.metadata.version(%q)\n    assert v\n    print(%q, v)\nexcept Exception:\n", m.dist, m.module)
		fmt.Fprintf(&script, "    try:\n        if importlib.util.find_spec(%q):\n            print(%q, importlib.import_module(%q).__version__)\n    except Exception:\n        pass\n", m.module, m.module, m.module)
	}
	cmd := exec.CommandContext(ctx, py, "-c", script.String())
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	results := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			results[f[0]] = f[1]
		}
	}
	return results, err
}

func (a *app) checkSandbox(ctx context.Context) check {
	c := check{name: "sandbox"}
	if a.cfg.Sandbox == "none" {
		c.warn = true
		c.text = "sandbox: none in the config: experiments run with only the weaker built-in isolation"
		return c
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		c.text = "bubblewrap is not installed: apt-get install bubblewrap (without it experiments run with weaker isolation)"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--unshare-all", "--die-with-parent", "true").CombinedOutput()
	if err != nil {
		c.text = fmt.Sprintf("%s is installed but cannot create a sandbox here: %s (it needs user namespaces or root)", bwrap, strings.TrimSpace(string(out)))
		return c
	}
	c.ok = true
	c.text = bwrap + " creates sandboxes (no network, own namespaces)"
	return c
}

// printIsolation shows which isolation measures and limits experiments
// get here, each enforced or not, with how or why.
func (a *app) printIsolation(ctx context.Context) {
	r, _, err := a.sandbox()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	es, err := sandbox.Inspect(ctx, r)
	if err != nil {
		fmt.Fprintf(a.env.Stdout, "\nIsolation: the sandbox probe failed: %v\n", err)
		return
	}
	fmt.Fprintf(a.env.Stdout, "\nIsolation and limits of experiments (sandbox %q):\n", a.cfg.Sandbox)
	for _, e := range es {
		mark := "enforced    "
		if !e.Enforced {
			mark = "NOT enforced"
		}
		fmt.Fprintf(a.env.Stdout, "  %s  %-13s %s\n", mark, e.Name, e.How)
	}
}

func (a *app) checkStore(ctx context.Context) check {
	c := check{name: "store"}
	st, err := a.openStore(ctx)
	if err != nil {
		c.text = err.Error() + ": check store: / --store, and that the directory is writable"
		return c
	}
	defer st.Close()
	runs, err := st.Runs(ctx)
	if err != nil {
		c.text = fmt.Sprintf("%s opens but cannot be read: %v", a.cfg.StorePath(), err)
		return c
	}
	c.ok = true
	c.text = fmt.Sprintf("%s (%d runs)", a.cfg.StorePath(), len(runs))
	return c
}

func (a *app) checkDisk() check {
	c := check{name: "disk"}
	dir := a.cfg.RunsDir
	for {
		if _, err := os.Stat(dir); err == nil || dir == filepath.Dir(dir) {
			break
		}
		dir = filepath.Dir(dir)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		c.text = fmt.Sprintf("cannot read free space of %s: %v", dir, err)
		c.warn = true
		return c
	}
	free := fs.Bavail * uint64(fs.Bsize)
	c.text = fmt.Sprintf("%.1f GiB free for %s", float64(free)/(1<<30), a.cfg.RunsDir)
	if free < minFreeDisk {
		c.warn = true
		c.text += ": below 2 GiB; runs keep workspace snapshots, free some space"
		return c
	}
	c.ok = true
	return c
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
