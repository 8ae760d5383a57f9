package kube

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client connects to the cluster: the kubeconfig file when one is named,
// else the in-cluster configuration (mlrc running in a pod), else
// $KUBECONFIG or ~/.kube/config.
func Client(kubeconfig string) (kubernetes.Interface, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case kubeconfig != "":
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	default:
		if cfg, err = rest.InClusterConfig(); err != nil {
			path := os.Getenv("KUBECONFIG")
			if path == "" {
				home, _ := os.UserHomeDir()
				path = filepath.Join(home, ".kube", "config")
			}
			cfg, err = clientcmd.BuildConfigFromFlags("", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: no cluster configuration (set kubernetes.kubeconfig, or KUBECONFIG): %w", err)
	}
	return kubernetes.NewForConfig(cfg)
}
