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
	// GPUs are the devices the run was given, with their kind when known
	// ("0 NVIDIA A100-SXM4-40GB"); GPUMemory the most GPU memory in use
	// (bytes) and GPUUtilization the mean utilisation (percent) while it
	// ran, where they were sampled.
	GPUs           []string `json:"gpus,omitempty"`
	GPUMemory      int64    `json:"gpu_memory,omitempty"`
	GPUUtilization float64  `json:"gpu_utilization,omitempty"`
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
		if p.GPUMemory > 0 {
			fmt.Fprintf(&b, ", GPU memory peak %.1f GiB, %.0f%% busy", float64(p.GPUMemory)/(1<<30), p.GPUUtilization)
		}
	}
	return b.String()
}
