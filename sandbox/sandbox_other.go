//go:build !linux

package sandbox

import "errors"

// New fails: the sandbox is built from Linux namespaces and cgroups.
func New(kind string) (Runner, string, error) {
	return nil, "", errors.New("sandbox: experiments can only be sandboxed on Linux")
}
