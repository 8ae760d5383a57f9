package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/mlrc/mlrc/internal/meminfo"
	"github.com/mlrc/mlrc/task"
)

// Timing is how long validation took against the work it did.
type Timing struct {
	// WallSeconds is the validation's wall time; WorkSeconds the sum of
	// the prepares (one per seed) and the re-runs.
	WallSeconds float64 `json:"wall_seconds"`
	WorkSeconds float64 `json:"work_seconds"`
	// Cores are the machine's; Workers the re-runs at a time.
	Cores   int `json:"cores"`
	Workers int `json:"workers"`
}

// Ratio is the wall time over the work spread over the cores: 1 is every
// core busy all the time.
func (t Timing) Ratio() float64 {
	if t.WorkSeconds <= 0 || t.Cores == 0 {
		return 0
	}
	return t.WallSeconds / (t.WorkSeconds / float64(t.Cores))
}

// armSource is an arm's name and the directory of its code.
type armSource struct{ name, dir string }

// prepared is one seed's prepare, shared by both arms.
type prepared struct {
	seed   int
	layout task.Layout
	done   chan struct{}
	// failed is what went wrong with the task (a *task.StepError), err an
	// infrastructure failure.
	failed  string
	err     error
	seconds float64
}

// workers is how many re-runs go at a time: one per core (experiments run
// on one thread), no more than the available memory holds at the task's
// memory limit, no more than there are re-runs.
func (v *validator) workers(jobs int) int {
	n := v.cfg.Parallel
	if n <= 0 {
		n = runtime.NumCPU()
		if avail := meminfo.Available(); avail > 0 && v.cfg.Task.Limits.Memory > 0 {
			n = min(n, int(avail/v.cfg.Task.Limits.Memory))
		}
	}
	return max(1, min(n, jobs))
}

// progress counts finished re-runs for Config.Progress.
type progress struct {
	mu    sync.Mutex
	done  int
	total int
	say   func(string)
}

func (p *progress) finished(rr *rerun, metric string) {
	if p.say == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	what := fmt.Sprintf("%s = %.6g", metric, rr.value)
	if rr.err != "" {
		what = "failed: " + clip(rr.err, 200)
	}
	p.say(fmt.Sprintf("re-run %d of %d: %s at seed %d: %s (%.1f s)", p.done, p.total, rr.arm, rr.seed, what, rr.seconds))
}

// runAll runs prepare once per seed and every arm at every seed, as many at
// a time as workers allows, and returns the re-runs by arm in seed order.
// An error is an infrastructure failure; it stops the others.
func (v *validator) runAll(ctx context.Context, arms []armSource) (map[string][]*rerun, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	preps := map[int]*prepared{}
	var jobs []func()
	for _, seed := range v.seeds {
		p := &prepared{seed: seed, done: make(chan struct{})}
		preps[seed] = p
		jobs = append(jobs, func() {
			defer close(p.done)
			v.prepare(ctx, p)
			if p.err != nil {
				cancel(p.err)
			}
		})
	}
	allPrepared := func() {
		for _, p := range preps {
			<-p.done
		}
	}
	out := map[string][]*rerun{}
	for _, a := range arms {
		out[a.name] = make([]*rerun, len(v.seeds))
	}
	prog := &progress{total: len(arms) * len(v.seeds), say: v.cfg.Progress}
	for i, seed := range v.seeds {
		for _, a := range arms {
			jobs = append(jobs, func() {
				p := preps[seed]
				<-p.done
				if p.err != nil {
					return
				}
				rr, err := v.rerunArm(ctx, a.name, a.dir, p, allPrepared)
				if err != nil {
					cancel(err)
					return
				}
				if rr.err != "" {
					v.log.Warn("re-run failed", "arm", a.name, "seed", seed, "error", rr.err)
				}
				out[a.name][i] = rr
				prog.finished(rr, v.cfg.Task.Metric.Name)
			})
		}
	}
	v.timing.Workers = v.workers(prog.total)
	if v.cfg.Progress != nil {
		v.cfg.Progress(fmt.Sprintf("re-running %s at %s: %d re-runs, %d at a time, prepare once per seed", joinAnd(armNames(arms)), seedList(v.seeds), prog.total, v.timing.Workers))
	}
	queue := make(chan func())
	var wg sync.WaitGroup
	for range v.timing.Workers {
		wg.Go(func() {
			for job := range queue {
				job()
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	for _, p := range preps {
		v.timing.WorkSeconds += p.seconds
	}
	for _, rs := range out {
		for _, rr := range rs {
			v.timing.WorkSeconds += rr.seconds
		}
	}
	return out, nil
}

func armNames(arms []armSource) []string {
	var out []string
	for _, a := range arms {
		out = append(out, "the "+a.name)
	}
	return out
}

// prepare runs task.Setup for p's seed in its own layout and records its
// held-out files.
func (v *validator) prepare(ctx context.Context, p *prepared) {
	start := time.Now()
	defer func() { p.seconds = time.Since(start).Seconds() }()
	dir := filepath.Join(v.workDir, fmt.Sprintf("prepare-%d", p.seed))
	if p.err = os.RemoveAll(dir); p.err != nil {
		return
	}
	p.layout = task.Layout{Workspace: filepath.Join(dir, "workspace"), Private: filepath.Join(dir, "private")}
	if _, err := v.cfg.Task.Setup(ctx, v.cfg.Sandbox, p.layout, task.Options{Python: v.cfg.Python, Seed: p.seed}); err != nil {
		if isStepError(err) {
			p.failed = clip(err.Error(), 1500)
			return
		}
		p.err = err
		return
	}
	if err := v.held.addDir(p.layout.Private); err != nil {
		p.err = fmt.Errorf("validate: read the held-out files: %w", err)
	}
}
