// Package buildinfo says which mlrc this is: the version and commit, set at
// link time by the Makefile, with the module's own build information as a
// fallback.
package buildinfo

import "runtime/debug"

// Set with -ldflags "-X github.com/mlrc/mlrc/internal/buildinfo.Version=…".
var (
	Version = "dev"
	Commit  = ""
)

// Get returns the version and commit ("unknown" when neither the linker nor
// the Go toolchain recorded one).
func Get() (version, commit string) {
	version, commit = Version, Commit
	if info, ok := debug.ReadBuildInfo(); ok {
		if version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && commit == "" {
				commit = s.Value
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	return version, commit
}
