package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
)

// runnerFunc is a sandbox.Runner from a function.
type runnerFunc func(context.Context, sandbox.Spec) (*sandbox.Result, error)

func (f runnerFunc) Run(ctx context.Context, s sandbox.Spec) (*sandbox.Result, error) {
	return f(ctx, s)
}

func TestLocalRecordsPlacement(t *testing.T) {
	var got sandbox.Spec
	inner := runnerFunc(func(_ context.Context, s sandbox.Spec) (*sandbox.Result, error) {
		got = s
		return &sandbox.Result{ExitCode: 0, Isolation: "bwrap: test"}, nil
	})
	r, err := New("", inner, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec := sandbox.Spec{Command: []string{"true"}, GPUDevices: []string{"1"}, Limits: sandbox.Limits{Memory: 1 << 30, CPUs: 2}}
	res, err := r.Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Command[0] != "true" || res.Isolation != "bwrap: test" {
		t.Errorf("the spec or result changed on the way: %+v %+v", got, res)
	}
	p := res.Placement
	if p.Executor != Local || p.Host == "" || p.Memory != 1<<30 || p.CPUs != 2 || len(p.GPUs) != 1 {
		t.Errorf("placement %+v", p)
	}
	if s := p.String(); !strings.HasPrefix(s, "local on ") || !strings.Contains(s, "1 GPU") {
		t.Errorf("placement line %q", s)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New("docker", nil, Options{}); err == nil || !strings.Contains(err.Error(), "want local, slurm or kubernetes") {
		t.Errorf("unknown executor: %v", err)
	}
	if _, err := New(Slurm, nil, Options{}); err == nil || !strings.Contains(err.Error(), "shared_dir") {
		t.Errorf("slurm without a shared directory: %v", err)
	}
}

func TestKubernetesBuild(t *testing.T) {
	_, err := New(Kubernetes, nil, Options{})
	want := "TAGS=kubernetes" // the default build leaves client-go out
	if KubernetesBuilt {
		want = "kubernetes.image" // built in: the settings are checked
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("executor kubernetes with no settings: %v, want an error naming %s", err, want)
	}
}
