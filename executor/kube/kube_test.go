package kube

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlrc/mlrc/sandbox"
)

// cluster stands in for the cluster's controllers on a fake clientset:
// when a Job appears it makes its pod on node n1, running, then ends
// both as end says.
type cluster struct {
	client *fake.Clientset
	mu     sync.Mutex
	job    *batchv1.Job // as created
	pods   int
}

// outcome is how the simulated run ends: the container's terminated
// state (nil: none), the pod's reason and conditions, the Job's
// condition. never: the Job never ends.
type outcome struct {
	term   *corev1.ContainerStateTerminated
	reason string
	podCnd []corev1.PodCondition
	jobCnd batchv1.JobCondition
	never  bool
}

func newCluster(t *testing.T, ctx context.Context, end outcome) *cluster {
	c := &cluster{client: fake.NewClientset()}
	go func() {
		for ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			list, err := c.client.BatchV1().Jobs("ns").List(ctx, metav1.ListOptions{})
			if err != nil || len(list.Items) == 0 {
				continue
			}
			j := list.Items[0]
			c.mu.Lock()
			first := c.job == nil
			if first {
				c.job = j.DeepCopy()
			}
			c.mu.Unlock()
			if !first {
				continue
			}
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: j.Name + "-abcde", Namespace: "ns", Labels: j.Spec.Template.Labels},
				Spec:       *j.Spec.Template.Spec.DeepCopy(),
				Status:     corev1.PodStatus{Phase: corev1.PodRunning},
			}
			pod.Spec.NodeName = "n1"
			if _, err := c.client.CoreV1().Pods("ns").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Error(err)
				return
			}
			if end.never {
				return
			}
			time.Sleep(20 * time.Millisecond)
			pod.Status.Phase = corev1.PodFailed
			if end.jobCnd.Type == batchv1.JobComplete {
				pod.Status.Phase = corev1.PodSucceeded
			}
			pod.Status.Reason = end.reason
			pod.Status.Conditions = end.podCnd
			if end.term != nil {
				pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "run", State: corev1.ContainerState{Terminated: end.term}}}
			}
			c.client.CoreV1().Pods("ns").UpdateStatus(ctx, pod, metav1.UpdateOptions{})
			end.jobCnd.Status = corev1.ConditionTrue
			j.Status.Conditions = append(j.Status.Conditions, end.jobCnd)
			c.client.BatchV1().Jobs("ns").UpdateStatus(ctx, &j, metav1.UpdateOptions{})
			return
		}
	}()
	return c
}

func (c *cluster) created() *batchv1.Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.job
}

// setup is a shared directory with a workspace, private labels and a
// protected file, and a cover over a hidden path off it.
func setup(t *testing.T) (Config, sandbox.Spec) {
	shared := t.TempDir()
	ws := filepath.Join(shared, "run1", "workspace")
	priv := filepath.Join(shared, "run1", "private")
	for _, d := range []string{ws, priv} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(ws, "data.csv"), []byte("x\n"), 0o644)
	cover := t.TempDir()
	cfg := Config{Namespace: "ns", Image: "python:3.12-slim", SharedClaim: "mlrc-runs", SharedDir: shared}
	spec := sandbox.Spec{
		Command:  []string{"/bin/sh", "-c", "python train.py"},
		Dir:      ws,
		Mounts:   []sandbox.Mount{{Source: ws, Writable: true}, {Source: cover, Target: "/task"}},
		ReadOnly: []string{filepath.Join(ws, "data.csv")},
		Env:      map[string]string{"MLRC_SEED": "3"},
		Limits:   sandbox.Limits{Wall: time.Minute, Memory: 2 << 30, CPUs: 2, Disk: 1 << 30, GPUs: 1},
	}
	return cfg, spec
}

func newExec(t *testing.T, c *cluster, cfg Config) *Executor {
	e, err := New(cfg, c.client)
	if err != nil {
		t.Fatal(err)
	}
	e.Poll = 5 * time.Millisecond
	return e
}

func TestJobObjects(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, spec := setup(t)
	c := newCluster(t, ctx, outcome{term: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}, jobCnd: batchv1.JobCondition{Type: batchv1.JobComplete}})
	e := newExec(t, c, cfg)
	res, err := e.Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Stdout.Text != "fake logs" {
		t.Errorf("result %+v, want exit 0 with the pod's log", res)
	}
	if p := res.Placement; p.Executor != "kubernetes" || p.Host != "n1" || !strings.HasPrefix(p.Job, "mlrc-run-") || len(p.GPUs) != 1 {
		t.Errorf("placement %+v", p)
	}

	j := c.created()
	if j == nil {
		t.Fatal("no Job was created")
	}
	if got := *j.Spec.BackoffLimit; got != 0 {
		t.Errorf("backoffLimit %d: a failed run must not be retried behind the agent's back", got)
	}
	if got, want := *j.Spec.ActiveDeadlineSeconds, int64(180); got != want {
		t.Errorf("activeDeadlineSeconds %d, want %d (the run's minute and the margin)", got, want)
	}
	ps := j.Spec.Template.Spec
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Error("the pod gets a service-account token")
	}
	if ps.EnableServiceLinks == nil || *ps.EnableServiceLinks {
		t.Error("the pod gets service links")
	}
	if ps.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s", ps.RestartPolicy)
	}
	psc := ps.SecurityContext
	if psc == nil || !*psc.RunAsNonRoot || *psc.RunAsUser == 0 || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}
	ct := ps.Containers[0]
	sc := ct.SecurityContext
	if sc == nil || !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || *sc.Privileged ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container security context %+v", sc)
	}
	if !slices.Equal(ct.Command, spec.Command) || ct.WorkingDir != spec.Dir || ct.Image != cfg.Image {
		t.Errorf("container %s %v in %s", ct.Image, ct.Command, ct.WorkingDir)
	}
	for name, want := range map[corev1.ResourceName]string{"cpu": "2", "memory": "2Gi", "ephemeral-storage": "1Gi", "nvidia.com/gpu": "1"} {
		req, lim := ct.Resources.Requests[name], ct.Resources.Limits[name]
		w := resource.MustParse(want)
		if req.Cmp(w) != 0 || lim.Cmp(w) != 0 {
			t.Errorf("%s: request %s, limit %s, want %s", name, req.String(), lim.String(), want)
		}
	}
	env := map[string]string{}
	for _, v := range ct.Env {
		env[v.Name] = v.Value
	}
	if env["MLRC_SEED"] != "3" || env["HOME"] != "/tmp" || len(env) != 2 {
		t.Errorf("environment %v: want the spec's and HOME only", env)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range ct.VolumeMounts {
		mounts[m.MountPath] = m
	}
	if m := mounts[spec.Dir]; m.Name != "shared" || m.SubPath != "run1/workspace" || m.ReadOnly {
		t.Errorf("workspace mount %+v", m)
	}
	if m := mounts[spec.ReadOnly[0]]; m.SubPath != "run1/workspace/data.csv" || !m.ReadOnly {
		t.Errorf("protected file mount %+v", m)
	}
	if _, ok := mounts["/task"]; ok {
		t.Error("the cover over a hidden path was mounted: the pod sees nothing of the host anyway")
	}
	if m := mounts["/tmp"]; m.Name != "tmp" {
		t.Errorf("/tmp %+v: the read-only root needs a writable /tmp", m)
	}
	for _, v := range ps.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}

	np, err := c.client.NetworkingV1().NetworkPolicies("ns").Get(ctx, PolicyName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("no NetworkPolicy: %v", err)
	}
	if len(np.Spec.Egress) != 0 || len(np.Spec.Ingress) != 0 || !slices.Contains(np.Spec.PolicyTypes, "Egress") || !slices.Contains(np.Spec.PolicyTypes, "Ingress") {
		t.Errorf("NetworkPolicy %+v does not deny all traffic", np.Spec)
	}
	if sel := np.Spec.PodSelector.MatchLabels; sel[LabelSandbox] != j.Spec.Template.Labels[LabelSandbox] || sel[LabelSandbox] == "" {
		t.Errorf("NetworkPolicy selects %v, the pod has %v", sel, j.Spec.Template.Labels)
	}

	// The run is over: its Job and pod are gone.
	jobs, _ := c.client.BatchV1().Jobs("ns").List(ctx, metav1.ListOptions{})
	pods, _ := c.client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if len(jobs.Items) != 0 || len(pods.Items) != 0 {
		t.Errorf("%d Jobs and %d pods left after the run", len(jobs.Items), len(pods.Items))
	}

	// A second run reuses the policy.
	c2 := newCluster(t, ctx, outcome{jobCnd: batchv1.JobCondition{Type: batchv1.JobComplete}})
	c2.client = c.client
	if _, err := e.Run(ctx, spec); err != nil {
		t.Errorf("second run: %v", err)
	}
}

func TestEndings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		end      outcome
		exit     int
		timedOut bool
		oom      bool
		note     string
	}{
		{name: "exit code", end: outcome{term: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}, jobCnd: batchv1.JobCondition{Type: batchv1.JobFailed, Reason: batchv1.JobReasonBackoffLimitExceeded}}, exit: 2},
		{name: "oom", end: outcome{term: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}, jobCnd: batchv1.JobCondition{Type: batchv1.JobFailed, Reason: batchv1.JobReasonBackoffLimitExceeded}}, exit: -1, oom: true, note: "out of memory (limit 2.0 GiB)"},
		{name: "deadline", end: outcome{jobCnd: batchv1.JobCondition{Type: batchv1.JobFailed, Reason: batchv1.JobReasonDeadlineExceeded, Message: "Job was active longer than specified deadline"}}, exit: -1, timedOut: true, note: "deadline"},
		{name: "eviction", end: outcome{reason: "Evicted", podCnd: []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "TerminationByKubelet", Message: "The node was low on resource: memory."}},
			jobCnd: batchv1.JobCondition{Type: batchv1.JobFailed, Reason: batchv1.JobReasonPodFailurePolicy}}, exit: -1, note: "evicted from node n1 (TerminationByKubelet: The node was low on resource: memory.)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg, spec := setup(t)
			c := newCluster(t, ctx, tc.end)
			res, err := newExec(t, c, cfg).Run(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() || res.ExitCode != tc.exit || res.TimedOut != tc.timedOut || res.OOM != tc.oom {
				t.Errorf("result exit %d timedOut %v oom %v, want %d %v %v", res.ExitCode, res.TimedOut, res.OOM, tc.exit, tc.timedOut, tc.oom)
			}
			if tc.note != "" && !strings.Contains(strings.Join(res.Notes, "\n"), tc.note) {
				t.Errorf("notes %q lack %q", res.Notes, tc.note)
			}
		})
	}
}

// A Job that never ends is stopped at its deadline by mlrc too, and
// deleted.
func TestTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, spec := setup(t)
	cfg.TimeMargin = time.Millisecond
	spec.Limits.Wall = time.Second
	c := newCluster(t, ctx, outcome{never: true})
	start := time.Now()
	res, err := newExec(t, c, cfg).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.OK() || time.Since(start) > 10*time.Second {
		t.Errorf("result %+v after %s, want a timeout after about a second", res, time.Since(start))
	}
	jobs, _ := c.client.BatchV1().Jobs("ns").List(ctx, metav1.ListOptions{})
	if len(jobs.Items) != 0 {
		t.Error("the timed-out Job was not deleted")
	}
}

func TestCancelDeletesJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg, spec := setup(t)
	c := newCluster(t, context.Background(), outcome{never: true})
	done := make(chan error, 1)
	go func() {
		_, err := newExec(t, c, cfg).Run(ctx, spec)
		done <- err
	}()
	for c.created() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want a cancellation", err)
	}
	jobs, _ := c.client.BatchV1().Jobs("ns").List(context.Background(), metav1.ListOptions{})
	pods, _ := c.client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	if len(jobs.Items) != 0 || len(pods.Items) != 0 {
		t.Errorf("%d Jobs, %d pods left after the cancel", len(jobs.Items), len(pods.Items))
	}
}

func TestRefuses(t *testing.T) {
	cfg, spec := setup(t)
	e, err := New(cfg, fake.NewClientset())
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "labels.csv"), []byte("y\n"), 0o644)
	spec.Mounts = append(spec.Mounts, sandbox.Mount{Source: outside})
	if _, err := e.Run(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "kubernetes.shared_dir") {
		t.Errorf("a mount off the shared volume: %v", err)
	}
	for _, bad := range []Config{{}, {Image: "x"}, {Image: "x", SharedClaim: "c", SharedDir: "rel"}, {Image: "x", SharedClaim: "c", SharedDir: "/s", RunAsUser: -1}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
