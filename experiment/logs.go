package experiment

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlrc/mlrc/sandbox"
)

// LogDir is where a run directory keeps the experiments' output, one pair
// of files per run: logs/<name>-stdout.txt and logs/<name>-stderr.txt.
const LogDir = "logs"

// LogFiles are a run's output files, relative to the run directory.
type LogFiles struct {
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// LogPaths are the files keepLogs writes for name ("run-3", "baseline",
// "node-4-run-1") in the run directory runDir, relative to it.
func LogPaths(name string) LogFiles {
	return LogFiles{
		Stdout: filepath.Join(LogDir, name+"-stdout.txt"),
		Stderr: filepath.Join(LogDir, name+"-stderr.txt"),
	}
}

// keepLogs writes an experiment's stdout and stderr (as the sandbox kept
// them: bounded, head and tail when long) into runDir/logs and returns
// their paths relative to runDir. A stream with nothing written gets no
// file.
func keepLogs(runDir, name string, res *sandbox.Result) (LogFiles, error) {
	if runDir == "" || res == nil {
		return LogFiles{}, nil
	}
	if err := os.MkdirAll(filepath.Join(runDir, LogDir), 0o755); err != nil {
		return LogFiles{}, fmt.Errorf("keep the run's output: %w", err)
	}
	paths := LogPaths(name)
	var kept LogFiles
	for _, f := range []struct {
		out  sandbox.Output
		path string
		dst  *string
	}{{res.Stdout, paths.Stdout, &kept.Stdout}, {res.Stderr, paths.Stderr, &kept.Stderr}} {
		if f.out.Total == 0 && f.out.Text == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(runDir, f.path), []byte(f.out.Text), 0o644); err != nil {
			return LogFiles{}, fmt.Errorf("keep the run's output: %w", err)
		}
		*f.dst = f.path
	}
	return kept, nil
}
