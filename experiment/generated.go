package experiment

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/mlrc/mlrc/snapshot"
)

// Generated is a file the best run wrote that is an output, not code: a
// file the evaluator reads (the task's outputs), a data file, or a large
// one. The code diff leaves it out and lists it with its size.
type Generated struct {
	Path   string `json:"path"`
	Status string `json:"status"` // A added, M modified, D deleted
	Bytes  int64  `json:"bytes"`  // -1 when deleted
	Why    string `json:"why"`
}

// dataExts are extensions of data, models and results, not code.
var dataExts = map[string]bool{
	".csv": true, ".tsv": true, ".parquet": true, ".feather": true, ".arrow": true, ".npy": true, ".npz": true,
	".pkl": true, ".pickle": true, ".joblib": true, ".pt": true, ".pth": true, ".ckpt": true, ".safetensors": true,
	".onnx": true, ".h5": true, ".hdf5": true, ".bin": true, ".model": true, ".jsonl": true, ".log": true,
	".gz": true, ".zip": true, ".tar": true, ".bz2": true, ".xz": true, ".zst": true, ".png": true, ".jpg": true, ".jpeg": true,
	".db": true, ".sqlite": true,
}

// maxCodeFile is the size above which a changed file is not shown as code.
const maxCodeFile = 512 << 10

// generatedWhy says why a changed file is generated, or "" for code.
func generatedWhy(c snapshot.Change, outputs []string) string {
	for _, o := range outputs {
		if ok, _ := path.Match(o, c.Path); ok || o == c.Path {
			return "the task's output, read by the evaluator"
		}
	}
	if ext := strings.ToLower(path.Ext(c.Path)); dataExts[ext] {
		return "data file (" + ext + ")"
	}
	if c.Size > maxCodeFile {
		return fmt.Sprintf("large file (over %d KiB)", maxCodeFile>>10)
	}
	return ""
}

// codeDiff is the diff of the code between two snapshots, without the
// generated files, which it returns apart.
func codeDiff(ctx context.Context, snaps *snapshot.Repo, from, to string, outputs []string) (string, []Generated, error) {
	changes, err := snaps.Changes(ctx, from, to)
	if err != nil {
		return "", nil, err
	}
	var gen []Generated
	var exclude []string
	for _, c := range changes {
		if why := generatedWhy(c, outputs); why != "" {
			gen = append(gen, Generated{Path: c.Path, Status: c.Status, Bytes: c.Size, Why: why})
			exclude = append(exclude, ":(exclude,literal)"+c.Path)
		}
	}
	if len(gen) == len(changes) && len(changes) > 0 {
		return "", gen, nil
	}
	diff, err := snaps.Diff(ctx, from, to, exclude...)
	return diff, gen, err
}
