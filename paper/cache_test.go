package paper

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCacheDir: the compiled-code cache does not follow HOME, so a fresh
// HOME finds the code compiled by the machine's first use.
func TestCacheDir(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", "")
	if got, want := cacheDir(""), filepath.Join("/var/tmp", fmt.Sprintf("mlrc-%d", os.Getuid()), "pdfium-wasm"); got != want {
		t.Errorf("default cache dir = %s, want %s", got, want)
	}
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	if got, want := cacheDir(""), filepath.Join(xdg, "mlrc", "pdfium-wasm"); got != want {
		t.Errorf("with XDG_CACHE_HOME: cache dir = %s, want %s", got, want)
	}
	if got, want := cacheDir("/srv/c"), "/srv/c/pdfium-wasm"; got != want {
		t.Errorf("named in the config: cache dir = %s, want %s", got, want)
	}
}

// TestCacheRefusesSharedDirs: compiled code is run, so a cache directory
// others can write, or a symbolic link someone planted, is not used.
func TestCacheRefusesSharedDirs(t *testing.T) {
	ok := t.TempDir()
	if c, dir, _ := compilationCache(ok); c == nil {
		t.Errorf("a private directory %s was refused", dir)
	} else {
		c.Close(t.Context())
	}

	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := compilationCache(open); c != nil {
		c.Close(t.Context())
		t.Error("a cache under a world-writable directory was used")
	}

	base := t.TempDir()
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(base, "pdfium-wasm")); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := compilationCache(base); c != nil {
		c.Close(t.Context())
		t.Error("a cache directory that is a symbolic link was used")
	}
}
