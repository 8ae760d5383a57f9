package sandbox

import (
	"fmt"
	"strings"
)

// Placement says where a run ran and with what: the executor, the host,
// the batch job and the GPUs it was given. Runners leave it empty; the
// executor that sends a run somewhere fills it in.
type Placement struct {
	// Executor is "local", "slurm" or "kubernetes".
	Executor string `json:"executor"`
	// Host is the machine (Slurm node, Kubernetes node or pod) that ran it.
	Host string `json:"host,omitempty"`
	// Job is the Slurm job id or the Kubernetes Job's name.
	Job string `json:"job,omitempty"`
	// GPUs are the devices the run was given (e.g. "0: NVIDIA A100"), GPU
	// the kind, for the report.
	GPUs []string `json:"gpus,omitempty"`
	// CPUs and Memory are what was asked for the run.
	CPUs   float64 `json:"cpus,omitempty"`
	Memory int64   `json:"memory,omitempty"`
}

// String is one line for the agent and the report: "slurm job 12 on
// node1, 1 GPU (NVIDIA A100)", "local on host".
func (p Placement) String() string {
	if p.Executor == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(p.Executor)
	if p.Job != "" {
		fmt.Fprintf(&b, " job %s", p.Job)
	}
	if p.Host != "" {
		fmt.Fprintf(&b, " on %s", p.Host)
	}
	if n := len(p.GPUs); n > 0 {
		fmt.Fprintf(&b, ", %d GPU (%s)", n, strings.Join(p.GPUs, ", "))
	}
	return b.String()
}
