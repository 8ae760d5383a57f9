package slurm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlrc/mlrc/sandbox"
)

// Node is the job's side: it reads the job file in dir, makes the hide
// covers, runs the spec in the sandbox r and writes the result file. The
// GPUs Slurm gave the job (CUDA_VISIBLE_DEVICES, set by --gres) replace
// the spec's. An error is returned only when not even a result file could
// be written; a sandbox that fails to start is reported in the file.
func Node(ctx context.Context, r sandbox.Runner, dir string, getenv func(string) string) error {
	host, _ := os.Hostname()
	res, runErr := node(ctx, r, dir, getenv)
	if ctx.Err() != nil {
		// Slurm is ending the job (scancel, time limit, preemption): no
		// result, so that the submitting side asks Slurm why.
		return ctx.Err()
	}
	rf := resultFile{Result: res, Host: host}
	if runErr != nil {
		rf.Error = runErr.Error()
		rf.Result = nil
	}
	b, err := json.Marshal(rf)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, resultName+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, resultName)); err != nil {
		return err
	}
	if res != nil {
		fmt.Printf("mlrc: run on %s finished: exit %d, %.1f s\n", host, res.ExitCode, res.Duration.Seconds())
	}
	return nil
}

func node(ctx context.Context, r sandbox.Runner, dir string, getenv func(string) string) (*sandbox.Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, specName))
	if err != nil {
		return nil, fmt.Errorf("read the job file: %w", err)
	}
	var jf jobFile
	if err := json.Unmarshal(b, &jf); err != nil {
		return nil, fmt.Errorf("read the job file: %w", err)
	}
	spec := jf.Spec
	for i, c := range jf.Covers {
		if c.Mount < 0 || c.Mount >= len(spec.Mounts) {
			return nil, fmt.Errorf("the job file's cover %d names no mount", i)
		}
		p := filepath.Join(dir, "cover-"+strconv.Itoa(i))
		if c.Dir {
			err = os.Mkdir(p, 0o555)
		} else {
			err = os.WriteFile(p, nil, 0o444)
		}
		if err != nil {
			return nil, err
		}
		spec.Mounts[c.Mount].Source = p
	}
	if spec.Limits.GPUs > 0 {
		spec.GPUDevices = nil
		if v := strings.TrimSpace(getenv("CUDA_VISIBLE_DEVICES")); v != "" && v != "NoDevFiles" {
			spec.GPUDevices = strings.Split(v, ",")
		}
	}
	fmt.Printf("mlrc: running on %s\n", hostname())
	res, err := r.Run(ctx, spec)
	if err != nil {
		return nil, err
	}
	res.Placement.GPUs = spec.GPUDevices
	return res, nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// NodeMain is `mlrc sandbox-job [--sandbox KIND] DIR`, what a job runs:
// Node with the sandbox new makes.
func NodeMain(ctx context.Context, args []string, getenv func(string) string, newSandbox func(kind string) (sandbox.Runner, error)) error {
	kind := "bwrap"
	if len(args) == 3 && args[0] == "--sandbox" {
		kind, args = args[1], args[2:]
	}
	if len(args) != 1 || !filepath.IsAbs(args[0]) {
		return fmt.Errorf("usage: mlrc sandbox-job [--sandbox bwrap|none] JOB-DIR (an absolute path; Slurm jobs run this, not people)")
	}
	r, err := newSandbox(kind)
	if err != nil {
		return err
	}
	return Node(ctx, r, args[0], getenv)
}
