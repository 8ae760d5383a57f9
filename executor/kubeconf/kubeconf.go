// Package kubeconf is the Kubernetes executor's configuration, apart from
// the executor (executor/kube) so that config can hold it without linking
// client-go into builds that leave the Kubernetes executor out.
package kubeconf

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Config is the executor's settings (mlrc.yaml's kubernetes:).
type Config struct {
	// Kubeconfig is the kubeconfig file; empty: in-cluster configuration,
	// else $KUBECONFIG, else ~/.kube/config.
	Kubeconfig string `yaml:"kubeconfig"`
	// Namespace holds the Jobs; default "default".
	Namespace string `yaml:"namespace"`
	// Image runs the experiments: it needs the task's interpreter and
	// packages (e.g. an image with python3, numpy, scikit-learn, torch).
	Image string `yaml:"image"`
	// SharedClaim is the PersistentVolumeClaim holding the run store;
	// SharedDir is where mlrc sees that claim's root. Every path a run
	// mounts must lie under SharedDir (runs_dir and the task directories).
	SharedClaim string `yaml:"shared_claim"`
	SharedDir   string `yaml:"shared_dir"`
	// RunAsUser is the pods' uid (non-root); default 65534.
	RunAsUser int64 `yaml:"run_as_user"`
	// NodeSelector and RuntimeClass (e.g. gvisor) place the pods.
	NodeSelector map[string]string `yaml:"node_selector"`
	RuntimeClass string            `yaml:"runtime_class"`
	// TimeMargin is added to a run's time limit for the Job's deadline
	// (pulling the image, starting the pod); default 2m.
	TimeMargin time.Duration `yaml:"time_margin"`
}

// Validate checks what can be checked without a cluster.
func (c Config) Validate() error {
	var errs []error
	if c.Image == "" {
		errs = append(errs, errors.New("kubernetes.image is not set: name an image with the interpreter and packages the task's experiments need"))
	}
	if c.SharedClaim == "" || c.SharedDir == "" {
		errs = append(errs, errors.New("kubernetes.shared_claim and kubernetes.shared_dir must both be set: the PersistentVolumeClaim holding runs_dir and the task directories, and where mlrc sees its root"))
	} else if !filepath.IsAbs(c.SharedDir) {
		errs = append(errs, fmt.Errorf("kubernetes.shared_dir %s: must be an absolute path", c.SharedDir))
	}
	if c.RunAsUser < 0 {
		errs = append(errs, errors.New("kubernetes.run_as_user: must be a non-root uid (0 means the default, 65534)"))
	}
	return errors.Join(errs...)
}
