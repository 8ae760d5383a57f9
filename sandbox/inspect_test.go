//go:build linux

package sandbox

import (
	"context"
	"os"
	"testing"
)

// Inspect reports, from a probe run in each runner, what is enforced: as
// root, bwrap drops to another uid with seccomp and a read-only /proc/sys;
// the fallback does not, and says so.
func TestInspect(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			es, err := Inspect(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Enforcement{}
			for _, e := range es {
				t.Logf("%-13s %-5v %s", e.Name, e.Enforced, e.How)
				got[e.Name] = e
			}
			for _, n := range []string{"uid mapping", "seccomp", "/proc/sys", "cgroups", "memory limit", "process limit", "CPU share", "disk quota"} {
				if got[n].How == "" {
					t.Errorf("no %q row", n)
				}
			}
			strong := name == "bwrap"
			if got["seccomp"].Enforced != strong {
				t.Errorf("seccomp = %+v", got["seccomp"])
			}
			if os.Geteuid() == 0 {
				for _, n := range []string{"uid mapping", "/proc/sys"} {
					if got[n].Enforced != strong {
						t.Errorf("%s = %+v, want enforced %v", n, got[n], strong)
					}
				}
			}
		})
	}
}
