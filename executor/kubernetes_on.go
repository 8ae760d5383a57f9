//go:build kubernetes

package executor

import (
	"github.com/mlrc/mlrc/executor/kube"
	"github.com/mlrc/mlrc/sandbox"
)

// KubernetesBuilt says whether this build has the Kubernetes executor.
const KubernetesBuilt = true

func newKubernetes(opt Options) (sandbox.Runner, error) {
	if err := opt.Kubernetes.Validate(); err != nil {
		return nil, err
	}
	client, err := kube.Client(opt.Kubernetes.Kubeconfig)
	if err != nil {
		return nil, err
	}
	e, err := kube.New(opt.Kubernetes, client)
	if err != nil {
		return nil, err
	}
	e.Log = opt.Log
	return e, nil
}
