package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
)

func TestDoctor(t *testing.T) {
	srv := fakeserver.New(fakeserver.Text("OK"))
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	r := run(t, env, "doctor", "--runs-dir", dir, "--model", "openai/any")
	// make test installs python3 and the ML packages and bubblewrap, so all pass.
	for _, w := range []string{
		"OK   model     openai/any answered \"OK\"",
		"OK   python    /usr/bin/python3: Python 3.",
		"OK   packages  numpy ",
		"OK   sandbox   ",
		"OK   store     " + filepath.Join(dir, "mlrc.db") + " (0 runs)",
		"OK   disk      ",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor lacks %q:\n%s%s", w, r.stdout, r.stderr)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0:\n%s", r.code, r.stderr)
	}
	// The isolation table: as root, the sandbox drops to another uid.
	want := []string{"Isolation and limits of experiments", "seccomp", "/proc/sys", "memory limit", "disk quota"}
	if os.Geteuid() == 0 {
		want = append(want, "enforced      uid mapping   the command is nobody inside; files it writes are owned by host uid 2000000000",
			"enforced      seccomp", "enforced      /proc/sys")
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor lacks %q:\n%s", w, r.stdout)
		}
	}
}

func TestDoctorSaysWhatToDo(t *testing.T) {
	srv := fakeserver.New(fakeserver.Error(401, "invalid key", nil))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mlrc.yaml")
	os.WriteFile(cfg, []byte("python: /nonexistent/python3\nsandbox: none\n"), 0o644)
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	r := run(t, env, "--config", cfg, "doctor", "--runs-dir", dir, "--model", "openai/any")
	for _, w := range []string{
		"FAIL model     openai/any does not answer: openai model any: HTTP 401",
		"FAIL python    /nonexistent/python3 does not run",
		"apt-get install python3",
		"WARN sandbox   sandbox: none",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor lacks %q:\n%s", w, r.stdout)
		}
	}
	if r.code == 0 || !strings.Contains(r.stderr, "2 check(s) failed") {
		t.Errorf("exit %d, stderr %q; want failure counting 2 checks", r.code, r.stderr)
	}
}

// TestPythonPackagesReadMetadata: versions come from the installed
// distributions' metadata, without importing the package (importing torch
// costs seconds); a module without metadata is still found by importing it.
func TestPythonPackagesReadMetadata(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "imported")
	// xgboost has metadata and an __init__ that leaves a mark when imported.
	writeAt(t, filepath.Join(dir, "xgboost", "__init__.py"), "open("+strconv.Quote(marker)+", 'w').close()\n__version__ = '0.0'\n")
	writeAt(t, filepath.Join(dir, "xgboost-9.9.dist-info", "METADATA"), "Metadata-Version: 2.1\nName: xgboost\nVersion: 9.9\n")
	// sklearn has no metadata of its own here: shadow the distribution name
	// so the lookup falls back to the import.
	writeAt(t, filepath.Join(dir, "sklearn", "__init__.py"), "__version__ = '7.7'\n")
	writeAt(t, filepath.Join(dir, "scikit_learn-0.dist-info", "METADATA"), "broken\n")
	t.Setenv("PYTHONPATH", dir)
	got, err := pythonPackages(t.Context(), py)
	if err != nil {
		t.Fatal(err)
	}
	if got["xgboost"] != "9.9" {
		t.Errorf("xgboost = %q, want 9.9 from its metadata (all: %v)", got["xgboost"], got)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("xgboost was imported to read its version")
	}
	if got["sklearn"] != "7.7" {
		t.Errorf("sklearn = %q, want 7.7 from importing it when its metadata has no version (all: %v)", got["sklearn"], got)
	}
}

func writeAt(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
