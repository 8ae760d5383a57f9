//go:build !kubernetes

package executor

import (
	"errors"

	"github.com/mlrc/mlrc/sandbox"
)

// KubernetesBuilt says whether this build has the Kubernetes executor.
// client-go adds about 37 MB to the binary, so it is built only with
// -tags kubernetes (make build TAGS=kubernetes).
const KubernetesBuilt = false

func newKubernetes(Options) (sandbox.Runner, error) {
	return nil, errors.New("executor kubernetes: this mlrc was built without the Kubernetes executor, which adds 37 MB; build it with `make build TAGS=kubernetes` (go build -tags kubernetes ./cmd/mlrc)")
}
