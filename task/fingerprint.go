package task

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
)

// Fingerprint is a hash of the task's data: its workspace (the prototype
// and the data it holds) and each external data path (data: in task.yaml,
// file or directory, by content), in name order. It keys the research
// memory: runs on the same task and data share what they learned, while a
// change of the data (or of the prototype) starts afresh. Unlike Hash it
// leaves out task.yaml and the evaluator, so a change of limits or wording
// keeps the memory.
func (t *Task) Fingerprint() (string, error) {
	h := sha256.New()
	if err := hashTree(h, t.Workspace, "workspace:"); err != nil {
		return "", fmt.Errorf("fingerprint task %s: %w", t.Name, err)
	}
	names := make([]string, 0, len(t.Data))
	for name := range t.Data {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := t.Data[name]
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("fingerprint task %s: data %s: %w", t.Name, name, err)
		}
		if err := hashTree(h, p, "data:"+name+":"); err != nil {
			return "", fmt.Errorf("fingerprint task %s: data %s: %w", t.Name, name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
