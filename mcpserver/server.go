// Package mcpserver serves mlrc to other agents over the Model Context
// Protocol: literature search, paper reading, task checks, idea generation,
// and research runs that start in the background and are followed, steered
// at their gates, stopped and reported.
//
// The server is a thin client of the same core as the command line. Work
// that takes long (task checks, idea generation, research runs) is the mlrc
// command itself, started as a child process with the same configuration,
// so it has the same sandbox, budgets, records and redaction, and it goes
// on if the server exits. What a run does is read back from the run store,
// which is the record every client of a run shares.
package mcpserver

import (
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlrc/mlrc/store"
)

// Config is what the server may use and do.
type Config struct {
	// Command runs mlrc: the executable and the global flags every child
	// gets (--runs-dir, --store, --config, --model).
	Command []string
	// Env is the children's environment; nil means this process's.
	Env []string
	// Store is the run store runs are read from.
	Store *store.Store
	// RunsDir is where children write their runs and their console logs.
	RunsDir string
	// Literature is the local literature index (lit_search).
	Literature string
	// Roots confine every path a client names: a path must resolve, after
	// symbolic links, to one of these directories or below.
	Roots []string
	// Version is mlrc's version, told to clients.
	Version string
	// Poll is how often run progress is read for notifications
	// (default 1 s).
	Poll time.Duration
	// Wait bounds how long idea_generate and task_check wait before they
	// answer with the run to follow instead (default 10 minutes).
	Wait time.Duration
}

// Gate is a question a run waits on.
type Gate struct {
	ID       int64  `json:"id" jsonschema:"the gate's id, for gate_answer"`
	Kind     string `json:"kind" jsonschema:"what is asked: pick_idea, approve_plan, checkpoint, final or ask"`
	Question string `json:"question" jsonschema:"the question as the run asks it"`
	Options  any    `json:"options,omitempty" jsonschema:"for pick_idea: the ideas in ranking order, numbered from 0"`
}

// Server is an MCP server for mlrc.
type Server struct {
	cfg  Config
	runs *launcher
	mcp  *mcp.Server
}

// New returns a server with every tool and resource registered.
func New(cfg Config) (*Server, error) {
	if len(cfg.Command) == 0 {
		return nil, fmt.Errorf("mcp server: no mlrc command to run children with")
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("mcp server: no run store")
	}
	roots, err := resolveRoots(cfg.Roots)
	if err != nil {
		return nil, err
	}
	cfg.Roots = roots
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 10 * time.Minute
	}
	s := &Server{cfg: cfg, runs: &launcher{command: cfg.Command, env: cfg.Env, dir: cfg.RunsDir}}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "mlrc", Title: "mlrc: autonomous ML research", Version: cfg.Version}, &mcp.ServerOptions{
		Instructions: instructions,
	})
	s.addTools()
	s.addResources()
	return s, nil
}

// MCP returns the protocol server, to run on a transport.
func (s *Server) MCP() *mcp.Server { return s.mcp }

const instructions = `mlrc does machine-learning research: it reads papers, proposes ideas, runs experiments on a task
in a sandbox and validates the results over several seeds. Start with lit_search or paper_read; task_check
checks a task directory; research_start starts a run and returns its id at once: follow it with run_status
or run_events, answer its gates with gate_answer, and read run_report when it has ended. Paths must lie
under the directories this server was given.`
