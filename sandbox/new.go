//go:build linux

package sandbox

import "fmt"

// New returns the runner for kind, and a warning to show the user when the
// runner is weaker than asked for:
//
//   - "bwrap" (or ""): Bwrap when bubblewrap is installed and works here,
//     else Fallback with a warning saying why;
//   - "none": Fallback, with a warning that experiments are not isolated
//     from the filesystem.
func New(kind string) (Runner, string, error) {
	switch kind {
	case "", "bwrap":
		b := &Bwrap{}
		if err := b.Check(); err != nil {
			return &Fallback{}, fmt.Sprintf("%v; using the weaker fallback sandbox, which does not hide or protect the filesystem", err), nil
		}
		return b, "", nil
	case "none":
		return &Fallback{}, "sandbox \"none\": experiments run without bubblewrap and can read and write the filesystem", nil
	}
	return nil, "", fmt.Errorf("sandbox: unknown kind %q (want \"bwrap\" or \"none\")", kind)
}
