package cli

import (
	"os"
	"path/filepath"
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
