package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
)

// An API key given in the environment appears nowhere mlrc writes: not in
// the store (database and WAL), the run directory, the logs or the output —
// even when the provider echoes it back in an error.
func TestAPIKeyNeverWritten(t *testing.T) {
	const key = "sk-test-Zq8xLQ2mT4vN6pR1sK3wY5"
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			echo := fakeserver.Error(500, "upstream failed for key "+key, nil)
			srv := fakeserver.New(echo, fakeserver.Text("fine"), echo, echo, echo, echo, echo)
			defer srv.Close()
			dir := t.TempDir()
			env := map[string]string{
				"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": key,
				"ANTHROPIC_BASE_URL": srv.URL, "ANTHROPIC_API_KEY": key,
				"MLRC_LOG_LEVEL": "debug",
			}
			cfg := filepath.Join(dir, "mlrc.yaml")
			os.WriteFile(cfg, []byte("llm:\n  base_delay: 1ms\n  max_delay: 2ms\n  attempts: 2\n"), 0o644)
			model := provider + "/any"
			// First call: one echoed error, then success. Second: fails for good.
			ok := run(t, env, "--config", cfg, "llm", "--runs-dir", dir, "--model", model, "hello")
			bad := run(t, env, "--config", cfg, "llm", "--runs-dir", dir, "--model", model, "hello again")
			if ok.code != 0 || bad.code == 0 {
				t.Fatalf("exit codes %d, %d; want 0 then failure\n%s\n%s", ok.code, bad.code, ok.stderr, bad.stderr)
			}
			// The key did reach the server, so it was really in use.
			if got := srv.Requests()[0].Header; !strings.Contains(got.Get("Authorization")+got.Get("X-Api-Key"), key) {
				t.Fatalf("the key was not sent to the provider: %v", got)
			}
			if !strings.Contains(bad.stderr, "upstream failed for key") {
				t.Errorf("the provider's message is lost:\n%s", bad.stderr)
			}
			for _, out := range []string{ok.stdout, ok.stderr, bad.stdout, bad.stderr} {
				if strings.Contains(out, key) {
					t.Errorf("key in output:\n%s", out)
				}
			}
			files := 0
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, _ := os.ReadFile(path)
				if bytes.Contains(b, []byte(key)) {
					t.Errorf("key written to %s", path)
				}
				return nil
			})
			// The database, its WAL, run.json, log.jsonl, llm-calls.jsonl for two runs at least.
			if files < 6 {
				t.Errorf("only %d files written; the check would prove little", files)
			}
		})
	}
}
