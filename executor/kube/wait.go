package kube

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlrc/mlrc/sandbox"
)

// wait follows the Job until it ends, streaming its pod's log, and says
// how it ended.
func (e *Executor) wait(ctx context.Context, job *batchv1.Job, spec sandbox.Spec) (*sandbox.Result, error) {
	name := job.Name
	deadline := time.Now().Add(time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second + e.Poll)
	out := newCapture(spec.Limits.Output)
	var logs sync.WaitGroup
	logCtx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	streaming := false
	place := sandbox.Placement{Executor: "kubernetes", Job: name, CPUs: spec.Limits.CPUs, Memory: spec.Limits.Memory}
	for i := 0; i < spec.Limits.GPUs; i++ {
		place.GPUs = append(place.GPUs, string(gpuName))
	}
	tick := time.NewTicker(e.Poll)
	defer tick.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kubernetes: run cancelled (Job %s deleted): %w", name, ctx.Err())
		case <-tick.C:
		}
		j, err := e.client.BatchV1().Jobs(e.cfg.Namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return e.ended(place, out, &logs, fmt.Sprintf("the Job %s was deleted from outside mlrc before it finished", name)), nil
		}
		if err != nil {
			if failures++; failures > 30 {
				return nil, fmt.Errorf("kubernetes: follow Job %s: %w", name, err)
			}
			continue
		}
		failures = 0
		pod := e.pod(ctx, name)
		if pod != nil {
			place.Host = pod.Spec.NodeName
			if !streaming && (pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed) {
				streaming = true
				logs.Add(1)
				go func() {
					defer logs.Done()
					e.stream(logCtx, pod.Name, out)
				}()
			}
		}
		if res := e.finished(j, pod, place, spec.Limits); res != nil {
			waitLogs(&logs, 5*time.Second)
			res.Stdout = out.output()
			return res, nil
		}
		if time.Now().After(deadline) {
			res := e.ended(place, out, &logs, fmt.Sprintf("the Job %s did not finish within its deadline of %d s; deleted", name, *job.Spec.ActiveDeadlineSeconds))
			res.TimedOut = true
			return res, nil
		}
	}
}

// ended is a run whose Job ended without an exit status.
func (e *Executor) ended(place sandbox.Placement, out *capture, logs *sync.WaitGroup, note string) *sandbox.Result {
	waitLogs(logs, 2*time.Second)
	return &sandbox.Result{ExitCode: -1, Signal: "killed", Notes: []string{note}, Stdout: out.output(), Isolation: e.isolation(), Placement: place}
}

// finished is the run's result once its Job has ended; nil before.
func (e *Executor) finished(j *batchv1.Job, pod *corev1.Pod, place sandbox.Placement, lim sandbox.Limits) *sandbox.Result {
	var done, failed *batchv1.JobCondition
	for i, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			done = &j.Status.Conditions[i]
		case batchv1.JobFailed:
			failed = &j.Status.Conditions[i]
		}
	}
	if done == nil && failed == nil {
		return nil
	}
	res := &sandbox.Result{ExitCode: -1, Isolation: e.isolation(), Placement: place}
	term := terminated(pod)
	if term != nil {
		res.ExitCode = int(term.ExitCode)
		if term.Reason == "OOMKilled" {
			res.OOM = true
			res.ExitCode, res.Signal = -1, "killed"
			res.Notes = append(res.Notes, fmt.Sprintf("out of memory (limit %s): the pod was OOMKilled", formatBytes(lim.Memory)))
		}
	}
	if done != nil {
		if term == nil {
			res.ExitCode = 0
		}
		return res
	}
	switch {
	case failed.Reason == batchv1.JobReasonDeadlineExceeded:
		res.TimedOut = true
		res.ExitCode, res.Signal = -1, "killed"
		res.Notes = append(res.Notes, fmt.Sprintf("killed at the Job's deadline (the time limit): %s", failed.Message))
	case evicted(pod):
		res.ExitCode, res.Signal = -1, "killed"
		res.Notes = append(res.Notes, fmt.Sprintf("the pod was evicted from node %s (%s); the run did not finish, run it again", place.Host, podMessage(pod)))
	case term == nil && !res.OOM:
		res.Signal = "killed"
		res.Notes = append(res.Notes, fmt.Sprintf("the Job failed: %s: %s", failed.Reason, failed.Message))
	}
	return res
}

// terminated is the run container's terminated state, if any.
func terminated(pod *corev1.Pod) *corev1.ContainerStateTerminated {
	if pod == nil {
		return nil
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == container && cs.State.Terminated != nil {
			return cs.State.Terminated
		}
	}
	return nil
}

// evicted reports a pod the cluster took away: evicted for pressure,
// preempted, drained.
func evicted(pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	if pod.Status.Reason == "Evicted" || pod.Status.Reason == "Preempting" {
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func podMessage(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Message != "" {
			return c.Reason + ": " + c.Message
		}
	}
	if pod.Status.Message != "" {
		return pod.Status.Reason + ": " + pod.Status.Message
	}
	return pod.Status.Reason
}

// pod is the Job's pod, the newest when there are several.
func (e *Executor) pod(ctx context.Context, name string) *corev1.Pod {
	list, err := e.client.CoreV1().Pods(e.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + name})
	if err != nil || len(list.Items) == 0 {
		return nil
	}
	p := &list.Items[0]
	for i := range list.Items {
		if list.Items[i].CreationTimestamp.After(p.CreationTimestamp.Time) {
			p = &list.Items[i]
		}
	}
	return p
}

// stream follows the pod's log into out and Log.
func (e *Executor) stream(ctx context.Context, pod string, out *capture) {
	rc, err := e.client.CoreV1().Pods(e.cfg.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: true}).Stream(ctx)
	if err != nil {
		return
	}
	defer rc.Close()
	var w io.Writer = out
	if e.Log != nil {
		w = io.MultiWriter(out, e.Log)
	}
	io.Copy(w, rc)
}

func waitLogs(wg *sync.WaitGroup, d time.Duration) {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(d):
	}
}

func (e *Executor) isolation() string {
	s := "kubernetes: Job in namespace " + e.cfg.Namespace + ", image " + e.cfg.Image + "; non-root, read-only root filesystem, all capabilities dropped, seccomp RuntimeDefault, no network (NetworkPolicy " + PolicyName + "), no service-account token"
	if e.cfg.RuntimeClass != "" {
		s += ", runtime class " + e.cfg.RuntimeClass
	}
	return s
}

func formatBytes(n int64) string {
	if n <= 0 {
		n = sandbox.DefaultMemory
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// capture keeps the head and tail of a log within a limit.
type capture struct {
	mu         sync.Mutex
	limit      int
	head, tail []byte
	total      int64
}

func newCapture(limit int64) *capture {
	if limit <= 0 {
		limit = sandbox.DefaultOutput
	}
	return &capture{limit: int(limit)}
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	half := c.limit / 2
	q := p
	if n := half - len(c.head); n > 0 {
		if n > len(q) {
			n = len(q)
		}
		c.head = append(c.head, q[:n]...)
		q = q[n:]
	}
	c.tail = append(c.tail, q...)
	if len(c.tail) > c.limit-half {
		c.tail = append(c.tail[:0:0], c.tail[len(c.tail)-(c.limit-half):]...)
	}
	return len(p), nil
}

func (c *capture) output() sandbox.Output {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := int64(len(c.head) + len(c.tail))
	if kept >= c.total {
		return sandbox.Output{Text: string(c.head) + string(c.tail), Total: c.total}
	}
	var b strings.Builder
	b.Write(c.head)
	fmt.Fprintf(&b, "\n[… %d bytes left out …]\n", c.total-kept)
	b.Write(c.tail)
	return sandbox.Output{Text: b.String(), Total: c.total, Truncated: true}
}
