package task

import (
	"os"
	"path/filepath"
	"testing"
)

// The fingerprint follows the data (the workspace and external data), not
// task.yaml.
func TestFingerprint(t *testing.T) {
	data := filepath.Join(t.TempDir(), "table.csv")
	if err := os.WriteFile(data, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := writeTask(t, minimal+"data: {table: "+data+"}\n")
	fp := func() string {
		t.Helper()
		tk, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		f, err := tk.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f1 := fp()
	if f1 != fp() || len(f1) != 64 {
		t.Fatalf("not a stable sha256: %s", f1)
	}
	yaml := minimal + "data: {table: " + data + "}\nlimits: {max_steps: 7}\n"
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if fp() != f1 {
		t.Errorf("a change of task.yaml's limits changed the fingerprint")
	}
	if err := os.WriteFile(data, []byte("a,b\n1,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f2 := fp()
	if f2 == f1 {
		t.Errorf("a change of the external data kept the fingerprint")
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace", "train.csv"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fp() == f2 {
		t.Errorf("a new workspace file kept the fingerprint")
	}
}
