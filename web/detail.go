package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/store"
)

// runRow is a run as the runs list shows it.
type runRow struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Model     string    `json:"model"`
	Rehearsal bool      `json:"rehearsal,omitempty"`
	Task      string    `json:"task,omitempty"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished,omitzero"`
	PID       int       `json:"pid,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Resume is the command that continues an interrupted run.
	Resume string `json:"resume,omitempty"`

	Metric   string   `json:"metric,omitempty"`
	Goal     string   `json:"goal,omitempty"`
	Baseline *float64 `json:"baseline,omitempty"`
	Best     *float64 `json:"best,omitempty"`
	// Verdict is "success", "no success" or "" (not validated).
	Verdict        string   `json:"verdict,omitempty"`
	VerdictSummary string   `json:"verdict_summary,omitempty"`
	Tokens         int64    `json:"tokens"`
	Cost           llm.Cost `json:"cost"`
	OpenGates      int      `json:"open_gates,omitempty"`
}

// verdictFile is what the runs list reads of verdict.json.
type verdictFile struct {
	Success  bool   `json:"success"`
	Summary  string `json:"summary"`
	Metric   string `json:"metric"`
	Goal     string `json:"goal"`
	Baseline struct {
		Mean float64 `json:"mean"`
	} `json:"baseline"`
	Best struct {
		Mean   float64   `json:"mean"`
		Values []float64 `json:"values"`
	} `json:"best"`
}

// stepEvent is the data of an experiment's "step" event (experiment.Event).
type stepEvent struct {
	Step     int      `json:"Step"`
	Action   string   `json:"Action"`
	Metric   *float64 `json:"Metric"`
	Best     *float64 `json:"Best"`
	Baseline float64  `json:"Baseline"`
}

func (s *Server) row(ctx context.Context, info store.RunInfo) (runRow, error) {
	st := s.opts.Store
	sum, err := st.Summary(ctx, info.ID)
	if err != nil {
		return runRow{}, err
	}
	r := runRow{ID: info.ID, Kind: info.Kind, Status: info.Status, Model: info.Model, Started: info.Created,
		Finished: info.Finished, PID: info.PID, Error: info.Error, Tokens: sum.Usage.Total(), Cost: sum.Cost,
		Rehearsal: strings.HasPrefix(info.Model, "scripted/"), Task: taskName(info.Config)}
	if info.Status == store.StatusInterrupted {
		r.Resume = "mlrc resume " + info.ID
	}
	var v verdictFile
	if readJSON(info.Dir, "verdict.json", &v) == nil && v.Metric != "" {
		r.Metric, r.Goal = v.Metric, v.Goal
		r.Baseline, r.Best = &v.Baseline.Mean, &v.Best.Mean
		r.Verdict, r.VerdictSummary = "no success", v.Summary
		if v.Success {
			r.Verdict = "success"
		}
		if len(v.Best.Values) == 0 {
			r.Best = nil
		}
	} else if ev, ok, err := st.LastEvent(ctx, info.ID, "step"); err == nil && ok {
		var se stepEvent
		if json.Unmarshal(ev.Data, &se) == nil {
			r.Baseline, r.Best = &se.Baseline, se.Best
		}
	}
	gates, err := st.Gates(ctx, info.ID, true)
	if err == nil {
		r.OpenGates = len(gates)
	}
	return r, nil
}

// taskName reads the task's name from a run's config: the base name of
// research.task or experiment.task.
func taskName(config json.RawMessage) string {
	var c struct {
		Research   *struct{ Task string } `json:"research"`
		Experiment *struct{ Task string } `json:"experiment"`
	}
	if json.Unmarshal(config, &c) != nil {
		return ""
	}
	switch {
	case c.Research != nil && c.Research.Task != "":
		return filepath.Base(c.Research.Task)
	case c.Experiment != nil && c.Experiment.Task != "":
		return filepath.Base(c.Experiment.Task)
	}
	return ""
}

// detail is everything the run page shows.
type detail struct {
	Run         runRow             `json:"run"`
	Config      json.RawMessage    `json:"config,omitempty"`
	Phases      []store.PhaseInfo  `json:"phases"`
	Steps       []stepView         `json:"steps"`
	Gates       []store.Gate       `json:"gates"`
	Usage       []store.PhaseUsage `json:"usage"`
	Calls       int64              `json:"calls"`
	FailedCalls int64              `json:"failed_calls"`
	TotalUsage  llm.Usage          `json:"total_usage"`
	Ideas       json.RawMessage    `json:"ideas,omitempty"`
	Plan        string             `json:"plan,omitempty"`
	Verdict     json.RawMessage    `json:"verdict,omitempty"`
	Series      []stepEvent        `json:"series"`
	Nodes       []json.RawMessage  `json:"nodes"`
	Diff        string             `json:"diff,omitempty"`
	Files       []fileView         `json:"files"`
	Report      bool               `json:"report"`
	Events      int64              `json:"events"` // the last event's seq
}

// stepView is a step: for an agent's step, what it thought, did and saw.
type stepView struct {
	Seq      int64           `json:"seq"`
	Phase    string          `json:"phase,omitempty"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Started  time.Time       `json:"started"`
	Ended    time.Time       `json:"ended,omitzero"`
	Thought  string          `json:"thought,omitempty"`
	Actions  []action        `json:"actions,omitempty"`
	Guidance string          `json:"guidance,omitempty"`
	Input    json.RawMessage `json:"input,omitempty"`
	Output   json.RawMessage `json:"output,omitempty"`
}

type action struct {
	Tool        string `json:"tool"`
	Args        string `json:"args"`
	Observation string `json:"observation"`
	Summary     string `json:"summary,omitempty"`
	IsError     bool   `json:"is_error,omitempty"`
}

type fileView struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	Kind string `json:"kind"` // image, html, text
}

// Clip sizes of what a page is sent.
const (
	clipJSON = 16 << 10
	clipText = 8 << 10
	clipDiff = 256 << 10
)

func (s *Server) detail(ctx context.Context, id string) (*detail, error) {
	st := s.opts.Store
	sum, err := st.Summary(ctx, id)
	if err != nil {
		return nil, err
	}
	row, err := s.row(ctx, sum.RunInfo)
	if err != nil {
		return nil, err
	}
	d := &detail{Run: row, Config: sum.Config, Phases: sum.Phases, Calls: sum.Calls, FailedCalls: sum.FailedCalls,
		TotalUsage: sum.Usage, Series: []stepEvent{}, Nodes: []json.RawMessage{}, Steps: []stepView{}}
	for _, stp := range sum.Steps {
		d.Steps = append(d.Steps, viewStep(stp))
	}
	if d.Gates, err = st.Gates(ctx, sum.ID, false); err != nil {
		return nil, err
	}
	if d.Usage, err = st.UsageByPhase(ctx, sum.ID); err != nil {
		return nil, err
	}
	events, err := st.EventsAfter(ctx, sum.ID, 0, 0)
	if err != nil {
		return nil, err
	}
	for _, ev := range events {
		d.Events = ev.Seq
		switch ev.Type {
		case "step":
			var se stepEvent
			if json.Unmarshal(ev.Data, &se) == nil {
				d.Series = append(d.Series, se)
			}
		case "node":
			d.Nodes = append(d.Nodes, ev.Data)
		}
	}
	// The page reads lists as lists: none is [], never null.
	if d.Phases == nil {
		d.Phases = []store.PhaseInfo{}
	}
	if d.Gates == nil {
		d.Gates = []store.Gate{}
	}
	if d.Usage == nil {
		d.Usage = []store.PhaseUsage{}
	}
	dir := sum.Dir
	if b, err := readFile(dir, "ideas.json", 4<<20); err == nil && json.Valid(b) {
		d.Ideas = b
		var res idea.Result
		if json.Unmarshal(b, &res) == nil && len(res.Ideas) > 0 {
			d.Plan = idea.PlanText(res.Ideas[0])
		}
	}
	var c struct {
		Research   *struct{ Plan string } `json:"research"`
		Experiment *struct{ Plan string } `json:"experiment"`
	}
	if json.Unmarshal(sum.Config, &c) == nil {
		switch {
		case c.Research != nil && c.Research.Plan != "":
			d.Plan = c.Research.Plan
		case c.Experiment != nil && c.Experiment.Plan != "":
			d.Plan = c.Experiment.Plan
		}
	}
	if b, err := readFile(dir, "verdict.json", 4<<20); err == nil && json.Valid(b) {
		d.Verdict = b
	}
	if b, err := readFile(dir, "best.diff", clipDiff); err == nil {
		d.Diff = string(b)
	}
	d.Files = listFiles(dir)
	for _, f := range d.Files {
		if f.Path == "report.html" {
			d.Report = true
		}
	}
	return d, nil
}

func viewStep(stp store.StepInfo) stepView {
	v := stepView{Seq: stp.Seq, Phase: stp.Phase, Kind: stp.Kind, Status: stp.Status, Started: stp.Started, Ended: stp.Ended}
	var out struct {
		Step *struct {
			Message struct {
				Content []llm.Part `json:"content"`
			} `json:"message"`
			Outcomes []struct {
				Call    llm.ToolCall `json:"call"`
				Content string       `json:"content"`
				IsError bool         `json:"is_error"`
				Summary string       `json:"summary"`
			} `json:"outcomes"`
			Guidance string `json:"guidance"`
		} `json:"step"`
	}
	if json.Unmarshal(stp.Output, &out) == nil && out.Step != nil {
		var thought []string
		for _, p := range out.Step.Message.Content {
			if p.Text != "" {
				thought = append(thought, p.Text)
			}
		}
		v.Thought = clip(strings.Join(thought, "\n"), clipText)
		v.Guidance = out.Step.Guidance
		for _, o := range out.Step.Outcomes {
			v.Actions = append(v.Actions, action{Tool: o.Call.Name, Args: clip(string(o.Call.Arguments), clipText),
				Observation: clip(o.Content, clipText), Summary: o.Summary, IsError: o.IsError})
		}
		return v
	}
	v.Input, v.Output = clipRaw(stp.Input), clipRaw(stp.Output)
	return v
}

// clipRaw keeps JSON up to clipJSON bytes; longer, it becomes a string of
// its start.
func clipRaw(b json.RawMessage) json.RawMessage {
	if len(b) <= clipJSON {
		return b
	}
	s, _ := json.Marshal(clip(string(b), clipJSON))
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n… (" + itoa(len(s)-n) + " more bytes)"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func readJSON(dir, name string, v any) error {
	b, err := readFile(dir, name, 4<<20)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// readFile reads the run directory's file name (slash-separated, inside
// the directory; nothing reached through a link outside it), up to limit
// bytes.
func readFile(dir, name string, limit int64) ([]byte, error) {
	f, err := openRunFile(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// errHidden says a path of the run directory is not served.
var errHidden = errors.New("not served")

// hidden reports whether a path of the run directory is kept from the page:
// the held-out labels, the snapshots, the lock, dot files, the workspace's
// data.
func hidden(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		switch {
		case part == "private", part == "snapshots.git", part == "data", part == "__pycache__",
			strings.HasPrefix(part, "."):
			return true
		}
	}
	return false
}

// openRunFile opens a regular file of the run directory through an os.Root,
// which no path or link can leave.
func openRunFile(dir, rel string) (*os.File, error) {
	rel = path.Clean("/" + rel)[1:]
	if rel == "" || !fs.ValidPath(rel) || hidden(rel) {
		return nil, errHidden
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, errHidden
	}
	return f, nil
}

// fileKind says how the page shows a file, by its extension.
func fileKind(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".png", ".svg", ".jpg", ".jpeg", ".gif":
		return "image"
	case ".html", ".htm":
		return "html"
	}
	return "text"
}

// listFiles lists the run directory's files worth showing: not hidden, at
// most four levels down, at most maxFiles of them.
func listFiles(dir string) []fileView {
	const maxFiles, maxDepth = 400, 4
	files := []fileView{}
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if len(files) >= maxFiles {
			return fs.SkipAll
		}
		if err != nil {
			if de != nil && de.IsDir() && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if hidden(rel) || strings.Count(rel, "/") >= maxDepth {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.Type().IsRegular() {
			if fi, err := de.Info(); err == nil {
				files = append(files, fileView{Path: rel, Size: fi.Size(), Kind: fileKind(rel)})
			}
		}
		return nil
	})
	sort.SliceStable(files, func(i, j int) bool {
		return strings.Count(files[i].Path, "/") < strings.Count(files[j].Path, "/")
	})
	return files
}
