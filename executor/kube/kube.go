// Package kube runs sandboxed commands as Kubernetes Jobs (client-go).
// Each run is one Job with one pod: the run's command in the configured
// image, its time limit as the Job's activeDeadlineSeconds, its memory,
// CPU, disk and GPUs as requests and limits (nvidia.com/gpu), no
// service-account token, no service links, a restrictive security context
// (non-root, read-only root filesystem, every capability dropped, seccomp
// RuntimeDefault, no privilege escalation) and a NetworkPolicy that denies
// it all traffic. The pod is the sandbox: it sees its image and what the
// spec mounts, nothing of mlrc's machine.
//
// The workspace moves through a volume: the run store lies on a
// filesystem that mlrc sees at SharedDir and the cluster offers as the
// PersistentVolumeClaim SharedClaim; each of the spec's mounts becomes a
// subPath mount of that claim (read-only unless the spec makes it
// writable, and the protected paths read-only inside it), so the held-out
// labels reach only the evaluation pods, whose specs mount them.
//
// The pod's log is streamed while it runs. When a run ends, however it
// ends (cancelled, timed out, failed), its Job is deleted with its pods.
package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlrc/mlrc/executor/kubeconf"
	"github.com/mlrc/mlrc/sandbox"
)

// Config is the executor's settings (mlrc.yaml's kubernetes:), declared
// in kubeconf so that reading a configuration does not link client-go.
type Config = kubeconf.Config

// Labels on everything the executor makes.
const (
	LabelManaged = "app.kubernetes.io/managed-by"
	LabelRun     = "mlrc.dev/run" // the Job's name, on the Job and its pod
	LabelSandbox = "mlrc.dev/sandbox"
	// PolicyName is the NetworkPolicy denying the runs' pods all traffic.
	PolicyName = "mlrc-runs-no-network"
	container  = "run"
	gpuName    = corev1.ResourceName("nvidia.com/gpu")
)

// Executor runs each spec as a Job. Make it with New.
type Executor struct {
	cfg    Config
	client kubernetes.Interface
	// Log hears the pods' logs as they come; optional.
	Log io.Writer
	// Poll is how often the Job is looked at; default one second.
	Poll time.Duration
}

// New returns an executor on client (kubernetes.NewForConfig, or a fake
// clientset in tests).
func New(cfg Config, client kubernetes.Interface) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.RunAsUser == 0 {
		cfg.RunAsUser = 65534
	}
	if cfg.TimeMargin <= 0 {
		cfg.TimeMargin = 2 * time.Minute
	}
	return &Executor{cfg: cfg, client: client, Poll: time.Second}, nil
}

// Run runs spec as a Job and deletes the Job when it ends.
func (e *Executor) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	job, err := e.job(spec)
	if err != nil {
		return nil, err
	}
	if err := e.ensurePolicy(ctx); err != nil {
		return nil, err
	}
	jobs := e.client.BatchV1().Jobs(e.cfg.Namespace)
	if _, err := jobs.Create(ctx, job, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("kubernetes: create Job %s: %w", job.Name, err)
	}
	defer e.delete(ctx, job.Name)
	start := time.Now()
	res, err := e.wait(ctx, job, spec)
	if err != nil {
		return nil, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

// delete removes the Job and its pods, also after a cancel.
func (e *Executor) delete(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	e.client.BatchV1().Jobs(e.cfg.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	// Background propagation leaves pods to the garbage collector; delete
	// them too, so nothing of the run outlives it.
	pods := e.client.CoreV1().Pods(e.cfg.Namespace)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + name})
	if err != nil {
		return
	}
	for _, p := range list.Items {
		pods.Delete(ctx, p.Name, metav1.DeleteOptions{})
	}
}

// ensurePolicy makes the NetworkPolicy that denies the runs' pods every
// connection, in and out, unless it is there.
func (e *Executor) ensurePolicy(ctx context.Context) error {
	np := Policy(e.cfg.Namespace)
	_, err := e.client.NetworkingV1().NetworkPolicies(e.cfg.Namespace).Create(ctx, np, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubernetes: create NetworkPolicy %s (the runs must have no network): %w", PolicyName, err)
	}
	return nil
}

// Policy is the NetworkPolicy selecting every run's pod with no rule:
// no egress, no ingress.
func Policy(namespace string) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: PolicyName, Namespace: namespace, Labels: map[string]string{LabelManaged: "mlrc"}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{LabelSandbox: "true"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}

// job builds the Job for spec.
func (e *Executor) job(spec sandbox.Spec) (*batchv1.Job, error) {
	if len(spec.Command) == 0 {
		return nil, errors.New("kubernetes: empty command")
	}
	mounts, err := e.mounts(spec)
	if err != nil {
		return nil, err
	}
	lim := spec.Limits
	wall := lim.Wall
	if wall <= 0 {
		wall = sandbox.DefaultWall
	}
	mem := lim.Memory
	if mem <= 0 {
		mem = sandbox.DefaultMemory
	}
	disk := lim.Disk
	if disk <= 0 {
		disk = sandbox.DefaultDisk
	}
	cpu := lim.CPUs
	if cpu <= 0 {
		cpu = 1
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewMilliQuantity(int64(cpu*1000), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(mem, resource.BinarySI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(disk, resource.BinarySI),
	}
	if lim.GPUs > 0 {
		res[gpuName] = *resource.NewQuantity(int64(lim.GPUs), resource.DecimalSI)
	}
	var rnd [5]byte
	rand.Read(rnd[:])
	name := "mlrc-run-" + hex.EncodeToString(rnd[:])
	labels := map[string]string{LabelManaged: "mlrc", LabelRun: name, LabelSandbox: "true"}
	deadline := int64((wall + e.cfg.TimeMargin).Seconds())
	var env []corev1.EnvVar
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, corev1.EnvVar{Name: k, Value: spec.Env[k]})
	}
	if _, ok := spec.Env["HOME"]; !ok {
		env = append(env, corev1.EnvVar{Name: "HOME", Value: "/tmp"})
	}
	f, t := false, true
	uid := e.cfg.RunAsUser
	tmpSize := resource.NewQuantity(disk, resource.BinarySI)
	pod := corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		AutomountServiceAccountToken: &f,
		EnableServiceLinks:           &f,
		NodeSelector:                 e.cfg.NodeSelector,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   &t,
			RunAsUser:      &uid,
			RunAsGroup:     &uid,
			FSGroup:        &uid,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:       container,
			Image:      e.cfg.Image,
			Command:    spec.Command,
			WorkingDir: spec.Dir,
			Env:        env,
			Resources:  corev1.ResourceRequirements{Requests: res, Limits: res},
			SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot:             &t,
				Privileged:               &f,
				AllowPrivilegeEscalation: &f,
				ReadOnlyRootFilesystem:   &t,
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			VolumeMounts: append(mounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"}),
		}},
		Volumes: []corev1.Volume{
			{Name: "shared", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: e.cfg.SharedClaim}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: tmpSize}}},
		},
	}
	if e.cfg.RuntimeClass != "" {
		rc := e.cfg.RuntimeClass
		pod.RuntimeClassName = &rc
	}
	zero := int32(0)
	ttl := int32(600)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.cfg.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:            &zero,
			ActiveDeadlineSeconds:   &deadline,
			TTLSecondsAfterFinished: &ttl,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       pod,
			},
		},
	}, nil
}

// mounts maps the spec's mounts to subPath mounts of the shared claim.
// Read-only mounts of empty directories or files off the shared
// filesystem (the covers over hidden paths) are left out: the pod sees
// nothing of mlrc's machine anyway.
func (e *Executor) mounts(spec sandbox.Spec) ([]corev1.VolumeMount, error) {
	var out []corev1.VolumeMount
	for _, m := range spec.Mounts {
		target := m.Target
		if target == "" {
			target = m.Source
		}
		rel, ok := e.rel(m.Source)
		if !ok {
			if !m.Writable && emptyPath(m.Source) {
				continue
			}
			return nil, fmt.Errorf("kubernetes: the run mounts %s, which is not under kubernetes.shared_dir %s (the claim %s): put runs_dir and the task there", m.Source, e.cfg.SharedDir, e.cfg.SharedClaim)
		}
		out = append(out, corev1.VolumeMount{Name: "shared", MountPath: target, SubPath: rel, ReadOnly: !m.Writable})
	}
	for _, p := range spec.ReadOnly {
		rel, ok := e.rel(p)
		if !ok {
			return nil, fmt.Errorf("kubernetes: the protected path %s is not under kubernetes.shared_dir %s", p, e.cfg.SharedDir)
		}
		out = append(out, corev1.VolumeMount{Name: "shared", MountPath: p, SubPath: rel, ReadOnly: true})
	}
	return out, nil
}

// rel is p relative to the shared directory.
func (e *Executor) rel(p string) (string, bool) {
	rel, err := filepath.Rel(filepath.Clean(e.cfg.SharedDir), filepath.Clean(p))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	if rel == "." {
		rel = ""
	}
	return rel, true
}

// emptyPath reports an empty directory or an empty regular file.
func emptyPath(p string) bool {
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	if st.IsDir() {
		entries, err := os.ReadDir(p)
		return err == nil && len(entries) == 0
	}
	return st.Mode().IsRegular() && st.Size() == 0
}
