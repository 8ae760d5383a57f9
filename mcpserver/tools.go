package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/gate"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/paper"
	"github.com/mlrc/mlrc/store"
)

// schema infers T's JSON schema and lets edit add what tags cannot say
// (bounds, enums, lengths), so that the client's model sees every rule.
func schema[T any](edit func(props map[string]*jsonschema.Schema)) *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(err) // the types are this package's own
	}
	if edit != nil {
		edit(s.Properties)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// bound sets an integer property's minimum and maximum.
func bound(p *jsonschema.Schema, lo, hi float64) {
	p.Minimum, p.Maximum = ptr(lo), ptr(hi)
}

// fail answers a tool call with an error result that tells the client's
// model what went wrong and what to do; the protocol call itself succeeds.
// out is the tool's zero output.
func fail[T any](out T, format string, args ...any) (*mcp.CallToolResult, T, error) {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf(format, args...)}}}, out, nil
}

// LitSearchIn is lit_search's input.
type LitSearchIn struct {
	Query string `json:"query" jsonschema:"what to look for, in a few keywords (e.g. gradient boosted trees tabular data)"`
	K     int    `json:"k,omitempty" jsonschema:"how many works to return (default 10)"`
}

// WorkOut is a work found in the literature.
type WorkOut struct {
	ID       string  `json:"id"`
	Source   string  `json:"source"`
	Title    string  `json:"title"`
	Year     int     `json:"year,omitempty"`
	Abstract string  `json:"abstract,omitempty"`
	URL      string  `json:"url,omitempty"`
	Score    float64 `json:"score"`
}

// LitSearchOut is lit_search's answer.
type LitSearchOut struct {
	Works []WorkOut `json:"works"`
}

// PaperReadIn is paper_read's input.
type PaperReadIn struct {
	Ref     string `json:"ref" jsonschema:"a PDF, Markdown or text file under the server's roots, an arXiv id (2408.14033) or a URL"`
	Offline bool   `json:"offline,omitempty" jsonschema:"do not fetch from arXiv or the web"`
}

// SectionOut is one section of a paper.
type SectionOut struct {
	Name    string `json:"name"`
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// PaperReadOut is paper_read's answer.
type PaperReadOut struct {
	ID        string       `json:"id"`
	Title     string       `json:"title"`
	Abstract  string       `json:"abstract"`
	Authors   []string     `json:"authors,omitempty"`
	Sections  []SectionOut `json:"sections"`
	Truncated bool         `json:"truncated,omitempty"`
}

// maxPaperText bounds the section text paper_read returns.
const maxPaperText = 200_000

// TaskCheckIn is task_check's input.
type TaskCheckIn struct {
	Dir string `json:"dir" jsonschema:"the task directory (with task.yaml) under the server's roots"`
}

// CommandOut is the outcome of an mlrc command run to its end.
type CommandOut struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	Output   string `json:"output"`
}

// IdeaGenerateIn is idea_generate's input.
type IdeaGenerateIn struct {
	Papers  []string `json:"papers" jsonschema:"papers: files under the server's roots, arXiv ids or URLs"`
	Task    string   `json:"task,omitempty" jsonschema:"a task directory the ideas must be feasible in"`
	N       int      `json:"n,omitempty" jsonschema:"candidate ideas to generate (default 5)"`
	Offline bool     `json:"offline,omitempty" jsonschema:"use only the local literature index"`
}

// IdeaGenerateOut is idea_generate's answer: the ideas when the run ended
// in time, else the run to follow.
type IdeaGenerateOut struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Ideas  any    `json:"ideas,omitempty" jsonschema:"ideas.json: the ideas, best first, with experiment plans and reviews"`
	Note   string `json:"note,omitempty"`
}

// ResearchStartIn is research_start's input.
type ResearchStartIn struct {
	Papers    []string `json:"papers" jsonschema:"papers: files under the server's roots, arXiv ids or URLs"`
	Task      string   `json:"task" jsonschema:"the task directory (with task.yaml)"`
	Search    string   `json:"search,omitempty" jsonschema:"experiment search: linear (default) or tree"`
	MaxSteps  int      `json:"max_steps,omitempty" jsonschema:"most agent steps (default: the task's limit)"`
	Human     bool     `json:"human,omitempty" jsonschema:"open gates (pick the idea, before the first run, checkpoints, the final answer) to answer with gate_answer"`
	Offline   bool     `json:"offline,omitempty" jsonschema:"use only the local literature index"`
	Seeds     []int    `json:"seeds,omitempty" jsonschema:"validation seeds, the first is the experiment's (default 0, 1, 2)"`
	Rehearsal string   `json:"rehearsal,omitempty" jsonschema:"rehearse without a model: a script of model answers (examples/rehearsal/digits.yaml)"`
}

// ResearchStartOut is research_start's answer.
type ResearchStartOut struct {
	RunID string `json:"run_id"`
	Dir   string `json:"dir"`
	Log   string `json:"log" jsonschema:"the run's console output"`
	Note  string `json:"note"`
}

// RunIn names a run.
type RunIn struct {
	RunID string `json:"run_id" jsonschema:"a run id or a unique prefix of one"`
}

// RunStatusOut is run_status's answer.
type RunStatusOut struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Status    string   `json:"status" jsonschema:"running, interrupted, done, failed or stopped"`
	Phase     string   `json:"phase,omitempty"`
	Steps     int      `json:"steps"`
	LastStep  string   `json:"last_step,omitempty"`
	Baseline  *float64 `json:"baseline,omitempty"`
	Metric    *float64 `json:"metric,omitempty" jsonschema:"the last run's metric"`
	Best      *float64 `json:"best,omitempty"`
	Verdict   string   `json:"verdict,omitempty"`
	CostUSD   float64  `json:"cost_usd"`
	Tokens    int64    `json:"tokens"`
	OpenGates []Gate   `json:"open_gates,omitempty"`
	Error     string   `json:"error,omitempty"`
	Next      string   `json:"next,omitempty" jsonschema:"what to do next"`
}

// RunEventsIn is run_events's input.
type RunEventsIn struct {
	RunID string `json:"run_id" jsonschema:"a run id or a unique prefix of one"`
	After int64  `json:"after,omitempty" jsonschema:"the cursor: the seq of the last event already seen (0 for all)"`
	Limit int    `json:"limit,omitempty" jsonschema:"most events to return (default 100)"`
}

// EventOut is one thing that happened in a run.
type EventOut struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	Type string    `json:"type" jsonschema:"phase, step, node, metric, warning, gate, verdict, stopped, …"`
	Data any       `json:"data,omitempty"`
}

// RunEventsOut is run_events's answer.
type RunEventsOut struct {
	Events []EventOut `json:"events"`
	Next   int64      `json:"next" jsonschema:"the cursor for the next call"`
}

// GateAnswerIn is gate_answer's input.
type GateAnswerIn struct {
	RunID    string `json:"run_id" jsonschema:"a run id or a unique prefix of one"`
	GateID   int64  `json:"gate_id" jsonschema:"the gate's id, from run_status"`
	Decision string `json:"decision" jsonschema:"approve (go on; at pick_idea, take the top idea), stop, guide (go on with guidance), pick (pick_idea only: take idea number pick) or regenerate (pick_idea only: new ideas, guidance says what to change)"`
	Guidance string `json:"guidance,omitempty" jsonschema:"with guide or regenerate: advice that enters the agent's next prompt"`
	Pick     int    `json:"pick,omitempty" jsonschema:"with pick: the idea's number in the gate's options, from 0"`
}

// OKOut is a plain acknowledgement.
type OKOut struct {
	OK   bool   `json:"ok"`
	Note string `json:"note,omitempty"`
}

// RunReportOut is run_report's answer.
type RunReportOut struct {
	RunID  string `json:"run_id"`
	Path   string `json:"path"`
	Report string `json:"report"`
}

func (s *Server) addTools() {
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "lit_search",
		Description: "Search the local literature index (titles and abstracts, BM25) and return the best works with ids, titles, years and abstracts.",
		InputSchema: schema[LitSearchIn](func(p map[string]*jsonschema.Schema) {
			p["query"].MinLength = ptr(1)
			bound(p["k"], 1, 50)
		}),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.litSearch)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "paper_read",
		Description: "Read a paper (PDF, Markdown, text, arXiv id or URL) and return its title, abstract, authors and sections.",
		InputSchema: schema[PaperReadIn](func(p map[string]*jsonschema.Schema) { p["ref"].MinLength = ptr(1) }),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.paperRead)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "task_check",
		Description: "Check a task directory: load task.yaml, prepare the data and run the baseline in the sandbox through the evaluator. Returns mlrc task check's output.",
		InputSchema: schema[TaskCheckIn](func(p map[string]*jsonschema.Schema) { p["dir"].MinLength = ptr(1) }),
	}, s.taskCheck)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "idea_generate",
		Description: "Run the IdeaAgent on papers (and a task): ranked research ideas with experiment plans, as ideas.json. Answers with the ideas when the run ends within the server's wait, else with the run id to follow (run_status; resource mlrc://runs/ID/ideas).",
		InputSchema: schema[IdeaGenerateIn](func(p map[string]*jsonschema.Schema) {
			p["papers"].MinItems = ptr(1)
			bound(p["n"], 1, 10)
		}),
	}, s.ideaGenerate)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "research_start",
		Description: "Start a research run (ideas, experiments in the sandbox, validation over seeds, report) in the background and return its id at once. Follow it with run_status or run_events; with human, answer its gates with gate_answer.",
		InputSchema: schema[ResearchStartIn](func(p map[string]*jsonschema.Schema) {
			p["papers"].MinItems = ptr(1)
			p["task"].MinLength = ptr(1)
			p["search"].Enum = []any{"linear", "tree"}
			bound(p["max_steps"], 0, 500)
			p["seeds"].MinItems, p["seeds"].MaxItems = ptr(2), ptr(20)
			p["seeds"].Items.Minimum = ptr(0.0)
		}),
	}, s.researchStart)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "run_status",
		Description: "A run's status: phase, steps, baseline, last and best metric, verdict, cost, open gates, and what to do next.",
		InputSchema: schema[RunIn](func(p map[string]*jsonschema.Schema) { p["run_id"].MinLength = ptr(1) }),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.runStatus)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "run_events",
		Description: "A run's events after a cursor (phases, steps with metrics, gates, warnings, the verdict). Pass the returned next as after to get only new events.",
		InputSchema: schema[RunEventsIn](func(p map[string]*jsonschema.Schema) {
			p["run_id"].MinLength = ptr(1)
			p["after"].Minimum = ptr(0.0)
			bound(p["limit"], 1, 1000)
		}),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.runEvents)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "gate_answer",
		Description: "Answer a run's open gate (see run_status open_gates): approve, stop, or guide with advice for the agent. The first answer wins, from here, the web UI or the terminal.",
		InputSchema: schema[GateAnswerIn](func(p map[string]*jsonschema.Schema) {
			p["run_id"].MinLength = ptr(1)
			p["decision"].Enum = []any{"approve", "stop", "guide", "pick", "regenerate"}
			p["gate_id"].Minimum = ptr(1.0)
			p["pick"].Minimum = ptr(0.0)
		}),
	}, s.gateAnswer)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "run_stop",
		Description: "Stop a running run as Ctrl-C would: it ends its step, writes a report saying it was stopped, and can be resumed with mlrc resume.",
		InputSchema: schema[RunIn](func(p map[string]*jsonschema.Schema) { p["run_id"].MinLength = ptr(1) }),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(false)},
	}, s.runStop)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "run_report",
		Description: "A run's report in Markdown (report.md), written when the run ends, stopped or failed runs included.",
		InputSchema: schema[RunIn](func(p map[string]*jsonschema.Schema) { p["run_id"].MinLength = ptr(1) }),
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, s.runReport)
}

func (s *Server) litSearch(ctx context.Context, _ *mcp.CallToolRequest, in LitSearchIn) (*mcp.CallToolResult, LitSearchOut, error) {
	var out LitSearchOut
	if strings.TrimSpace(in.Query) == "" {
		return fail(out, "lit_search: the query is empty")
	}
	k := in.K
	if k == 0 {
		k = lit.DefaultK
	}
	if _, err := os.Stat(s.cfg.Literature); err != nil {
		return fail(out, "lit_search: no literature index at %s: build one with mlrc lit index FILE.jsonl.gz", s.cfg.Literature)
	}
	ix, err := lit.OpenIndex(ctx, s.cfg.Literature)
	if err != nil {
		return nil, out, err
	}
	defer ix.Close()
	hits, err := ix.Search(ctx, in.Query, k)
	if err != nil {
		return nil, out, err
	}
	out.Works = make([]WorkOut, 0, len(hits))
	for _, h := range hits {
		w := h.Work
		out.Works = append(out.Works, WorkOut{ID: w.ID, Source: w.Source, Title: w.Title, Year: w.Year, Abstract: w.Abstract, URL: w.URL, Score: h.Score})
	}
	return nil, out, nil
}

func (s *Server) paperRead(ctx context.Context, _ *mcp.CallToolRequest, in PaperReadIn) (*mcp.CallToolResult, PaperReadOut, error) {
	var out PaperReadOut
	ref, err := s.paperRef(in.Ref)
	if err != nil {
		return fail(out, "paper_read: %v", err)
	}
	p, err := paper.Load(ctx, ref, paper.Options{Offline: in.Offline})
	if err != nil {
		return fail(out, "paper_read: %v", err)
	}
	out = PaperReadOut{ID: p.ID, Title: p.Title, Abstract: p.Abstract, Authors: p.Authors, Sections: []SectionOut{}}
	left := maxPaperText
	for _, sec := range p.Sections {
		text := sec.Text
		if len(text) > left {
			text, out.Truncated = text[:left], true
		}
		left -= len(text)
		out.Sections = append(out.Sections, SectionOut{Name: sec.Name, Heading: sec.Heading, Text: text})
		if left <= 0 {
			out.Truncated = true
			break
		}
	}
	return nil, out, nil
}

func (s *Server) taskCheck(ctx context.Context, _ *mcp.CallToolRequest, in TaskCheckIn) (*mcp.CallToolResult, CommandOut, error) {
	dir, err := s.confine(in.Dir)
	if err != nil {
		return fail(CommandOut{}, "task_check: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Wait)
	defer cancel()
	out, code, err := s.runs.run(ctx, "task", "check", dir)
	if err != nil {
		return nil, CommandOut{}, err
	}
	return nil, CommandOut{OK: code == 0, ExitCode: code, Output: out}, nil
}

func (s *Server) ideaGenerate(ctx context.Context, req *mcp.CallToolRequest, in IdeaGenerateIn) (*mcp.CallToolResult, IdeaGenerateOut, error) {
	var out IdeaGenerateOut
	args := []string{"idea", "--auto"}
	for _, p := range in.Papers {
		ref, err := s.paperRef(p)
		if err != nil {
			return fail(out, "idea_generate: paper %q: %v", p, err)
		}
		args = append(args, "--paper", ref)
	}
	if in.Task != "" {
		dir, err := s.confine(in.Task)
		if err != nil {
			return fail(out, "idea_generate: task: %v", err)
		}
		args = append(args, "--task", dir)
	}
	if in.N > 0 {
		args = append(args, "--n", strconv.Itoa(in.N))
	}
	if in.Offline {
		args = append(args, "--offline")
	}
	ch, err := s.runs.start(ctx, args)
	if err != nil {
		return fail(out, "idea_generate: %v", err)
	}
	out.RunID = ch.runID
	wait := time.NewTimer(s.cfg.Wait)
	defer wait.Stop()
	stopProgress := s.progress(req, ch.runID)
	defer stopProgress()
	select {
	case <-ch.done:
	case <-wait.C:
	case <-ctx.Done():
	}
	info, err := s.cfg.Store.Summary(context.WithoutCancel(ctx), ch.runID)
	if err != nil {
		return nil, out, err
	}
	out.Status = info.Status
	if info.Status != store.StatusDone {
		if info.Status == store.StatusRunning {
			out.Note = "still running: follow it with run_status; the ideas will be at the resource mlrc://runs/" + ch.runID + "/ideas"
		} else {
			out.Note = "the idea run ended " + info.Status + ": " + info.Error + " (its console output: " + ch.log + ")"
		}
		return nil, out, nil
	}
	b, err := os.ReadFile(filepath.Join(info.Dir, "ideas.json"))
	if err != nil {
		return nil, out, fmt.Errorf("idea_generate: the run ended but its ideas could not be read: %w", err)
	}
	out.Ideas = json.RawMessage(b)
	return nil, out, nil
}

func (s *Server) researchStart(ctx context.Context, req *mcp.CallToolRequest, in ResearchStartIn) (*mcp.CallToolResult, ResearchStartOut, error) {
	var out ResearchStartOut
	args := []string{"research"}
	for _, p := range in.Papers {
		ref, err := s.paperRef(p)
		if err != nil {
			return fail(out, "research_start: paper %q: %v", p, err)
		}
		args = append(args, "--paper", ref)
	}
	dir, err := s.confine(in.Task)
	if err != nil {
		return fail(out, "research_start: task: %v", err)
	}
	args = append(args, "--task", dir)
	switch in.Search {
	case "", "linear", "tree":
		if in.Search != "" {
			args = append(args, "--search", in.Search)
		}
	default:
		return fail(out, "research_start: search %q: want linear or tree", in.Search)
	}
	if in.MaxSteps < 0 {
		return fail(out, "research_start: max_steps %d: want 0 (the task's limit) or more", in.MaxSteps)
	}
	if in.MaxSteps > 0 {
		args = append(args, "--max-steps", strconv.Itoa(in.MaxSteps))
	}
	if len(in.Seeds) > 0 {
		if len(in.Seeds) < 2 {
			return fail(out, "research_start: seeds: want at least 2 to test a difference")
		}
		seeds := make([]string, len(in.Seeds))
		for i, n := range in.Seeds {
			seeds[i] = strconv.Itoa(n)
		}
		args = append(args, "--seeds", strings.Join(seeds, ","))
	}
	if in.Human {
		args = append(args, "--human")
	} else {
		args = append(args, "--auto")
	}
	if in.Offline {
		args = append(args, "--offline")
	}
	if in.Rehearsal != "" {
		script, err := s.confine(in.Rehearsal)
		if err != nil {
			return fail(out, "research_start: rehearsal: %v", err)
		}
		args = append(args, "--rehearsal", script)
	}
	// The run outlives this call: it is not cancelled with the request.
	ch, err := s.runs.start(context.WithoutCancel(ctx), args)
	if err != nil {
		return fail(out, "research_start: %v", err)
	}
	out = ResearchStartOut{RunID: ch.runID, Log: ch.log, Note: "the run goes on in the background: follow it with run_status or run_events"}
	if info, err := s.cfg.Store.Summary(ctx, ch.runID); err == nil {
		out.Dir = info.Dir
	}
	s.followInBackground(req, ch)
	return nil, out, nil
}

func (s *Server) runStatus(ctx context.Context, _ *mcp.CallToolRequest, in RunIn) (*mcp.CallToolResult, RunStatusOut, error) {
	st, err := s.status(ctx, in.RunID)
	if err != nil {
		return fail(RunStatusOut{}, "run_status: %v", err)
	}
	return nil, st, nil
}

func (s *Server) runEvents(ctx context.Context, _ *mcp.CallToolRequest, in RunEventsIn) (*mcp.CallToolResult, RunEventsOut, error) {
	out := RunEventsOut{Events: []EventOut{}, Next: in.After}
	run, err := s.cfg.Store.Run(ctx, in.RunID)
	if err != nil {
		return fail(out, "run_events: %v", err)
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 100
	}
	evs, err := run.Events(ctx)
	if err != nil {
		return nil, out, err
	}
	for _, e := range evs {
		if e.Seq <= in.After {
			continue
		}
		if len(out.Events) == limit {
			break
		}
		eo := EventOut{Seq: e.Seq, Time: e.Time, Type: e.Type}
		if len(e.Data) > 0 {
			eo.Data = json.RawMessage(e.Data)
		}
		out.Events = append(out.Events, eo)
		out.Next = e.Seq
	}
	return nil, out, nil
}

func (s *Server) gateAnswer(ctx context.Context, _ *mcp.CallToolRequest, in GateAnswerIn) (*mcp.CallToolResult, OKOut, error) {
	info, err := s.cfg.Store.Summary(ctx, in.RunID)
	if err != nil {
		return fail(OKOut{}, "gate_answer: %v", err)
	}
	g, err := s.cfg.Store.Gate(ctx, info.ID, in.GateID)
	if err != nil {
		return fail(OKOut{}, "gate_answer: %v (run_status lists the open gates)", err)
	}
	raw, err := answerJSON(g.Kind, in)
	if err != nil {
		return fail(OKOut{}, "gate_answer: %v", err)
	}
	canon, err := gate.Check(g, raw)
	if err != nil {
		return fail(OKOut{}, "gate_answer: %v", err)
	}
	g, err = s.cfg.Store.AnswerGate(ctx, info.ID, in.GateID, canon, store.ByMCP)
	if err != nil {
		return fail(OKOut{}, "gate_answer: %v", err)
	}
	return nil, OKOut{OK: true, Note: "answered (" + gate.Describe(g) + "); the run goes on"}, nil
}

// answerJSON turns a decision into the answer a gate of kind takes.
func answerJSON(kind string, in GateAnswerIn) (json.RawMessage, error) {
	guidance := strings.TrimSpace(in.Guidance)
	if kind == store.GatePickIdea {
		switch in.Decision {
		case "approve":
			return json.Marshal(gate.Pick{Pick: 0})
		case "pick":
			return json.Marshal(gate.Pick{Pick: in.Pick})
		case "regenerate":
			return json.Marshal(gate.Pick{Regenerate: true, Feedback: guidance})
		}
		return nil, fmt.Errorf("a pick_idea gate takes approve (the top idea), pick (with pick: N) or regenerate (with guidance), not %q", in.Decision)
	}
	switch in.Decision {
	case "approve":
		return json.Marshal(experiment.Answer{})
	case "stop":
		return json.Marshal(experiment.Answer{Stop: true})
	case "guide":
		if guidance == "" {
			return nil, fmt.Errorf("decision guide needs guidance (the advice for the agent)")
		}
		return json.Marshal(experiment.Answer{Guidance: guidance})
	}
	return nil, fmt.Errorf("a %s gate takes approve, stop or guide (with guidance), not %q", kind, in.Decision)
}

func (s *Server) runStop(ctx context.Context, _ *mcp.CallToolRequest, in RunIn) (*mcp.CallToolResult, OKOut, error) {
	info, err := s.cfg.Store.Summary(ctx, in.RunID)
	if err != nil {
		return fail(OKOut{}, "run_stop: %v", err)
	}
	if info.Status != store.StatusRunning {
		return nil, OKOut{OK: true, Note: "the run is not running (" + info.Status + ")"}, nil
	}
	pid, held, err := store.Holder(info.Dir)
	if err != nil {
		return nil, OKOut{}, err
	}
	if !held || pid <= 0 {
		return nil, OKOut{OK: true, Note: "no process holds the run"}, nil
	}
	// SIGINT is Ctrl-C: the run ends its step and writes its report.
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fail(OKOut{}, "run_stop: signal process %d: %v", pid, err)
	}
	return nil, OKOut{OK: true, Note: fmt.Sprintf("stop sent to process %d; the run writes its report and can be resumed with mlrc resume %s", pid, info.ID)}, nil
}

func (s *Server) runReport(ctx context.Context, _ *mcp.CallToolRequest, in RunIn) (*mcp.CallToolResult, RunReportOut, error) {
	info, err := s.cfg.Store.Summary(ctx, in.RunID)
	if err != nil {
		return fail(RunReportOut{}, "run_report: %v", err)
	}
	path := filepath.Join(info.Dir, "report.md")
	b, err := os.ReadFile(path)
	if err != nil {
		if info.Status == store.StatusRunning {
			return fail(RunReportOut{}, "run_report: run %s is still running; its report is written when it ends", info.ID)
		}
		return fail(RunReportOut{}, "run_report: run %s has no report (%v); mlrc report %s writes one", info.ID, err, info.ID)
	}
	return nil, RunReportOut{RunID: info.ID, Path: path, Report: string(b)}, nil
}
