// Package cli is the mlrc command line: cobra commands that parse flags and
// wire the packages together. It holds no research logic of its own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/config"
	"github.com/mlrc/mlrc/gate"
	"github.com/mlrc/mlrc/internal/live"
	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/providers"
	"github.com/mlrc/mlrc/paper"
	"github.com/mlrc/mlrc/secret"
)

// Env is what the command line reads and writes: standard streams and the
// environment. Tests pass their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// OSEnv returns the process's own streams and environment.
func OSEnv() Env {
	return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Run executes the command line args and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	// Text from models, experiments, evaluators and papers reaches the
	// terminal through these: escape sequences in it are removed.
	// The live display sits below: it draws its status line itself.
	disp := live.New(env.Stdout, terminal(env.Stdout, env.Getenv))
	env.Stdout, env.Stderr = termsafe.NewWriter(disp), termsafe.NewWriter(env.Stderr)
	a := &app{env: env, live: disp}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	paper.Close() // the PDF engine, if a command started it
	if err == nil {
		return 0
	}
	msg := err.Error()
	if a.redact != nil {
		msg = a.redact.String(msg)
	}
	fmt.Fprintf(env.Stderr, "mlrc: %s\n", msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake in how mlrc was called; exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// app is the state shared by the commands of one invocation.
type app struct {
	env   Env
	flags globalFlags
	cfg   config.Config
	// redact masks this process's API keys wherever mlrc writes.
	redact *secret.Redactor
	log    *slog.Logger
	// console asks at human gates on this terminal (see gateHuman).
	console *gate.Console
	// live shows a run's progress on stdout.
	live *live.Display
	// scripts are the scripted models opened so far, by name: a script
	// is one sequence of answers for the whole process, so mlrc bench's
	// tasks and --n-experiments' runs go on where the last one stopped.
	scripts map[string]llm.Provider
}

type globalFlags struct {
	config        string
	model         string
	runsDir       string
	store         string
	logLevel      string
	budgetTokens  int64
	budgetDollars float64
	executor      string
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "mlrc",
		Short: "Autonomous machine-learning research with LLM agents",
		Long: `mlrc reads research papers and a task (prototype code, data and an evaluator),
proposes hypotheses, runs experiments in a sandbox and validates the results.

Models are named provider/model: openai/gpt-4o-mini, anthropic/claude-sonnet-4-5,
ollama/qwen2.5-coder:7b, openrouter/deepseek/deepseek-chat. Set MLRC_MODEL or --model,
and the provider's key (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.load(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.config, "config", "", "config file (default: ./mlrc.yaml when present)")
	pf.StringVar(&a.flags.model, "model", "", "model as provider/model (default: $MLRC_MODEL, the config, or a guess from the keys set)")
	pf.StringVar(&a.flags.runsDir, "runs-dir", "", "directory of run directories (default ./runs)")
	pf.StringVar(&a.flags.store, "store", "", "run store database (default <runs-dir>/mlrc.db)")
	pf.StringVar(&a.flags.logLevel, "log-level", "", "terminal log level: debug, info, warn, error")
	pf.Int64Var(&a.flags.budgetTokens, "budget-tokens", 0, "stop the run after this many tokens (0: no limit)")
	pf.Float64Var(&a.flags.budgetDollars, "budget-dollars", 0, "stop the run after this many US dollars (0: no limit)")
	pf.StringVar(&a.flags.executor, "executor", "", "where experiment runs go: local, slurm or kubernetes (default: the config's executor, else local)")

	root.AddCommand(
		a.versionCommand(),
		a.llmCommand(),
		a.runsCommand(),
		a.memoryCommand(),
		a.doctorCommand(),
		a.taskCommand(),
		a.experimentCommand(),
		a.resumeCommand(),
		a.ideaCommand(),
		a.litCommand(),
		a.researchCommand(),
		a.replayCommand(),
		a.benchCommand(),
		a.mcpCommand(),
		a.serveCommand(),
		a.sandboxJobCommand(),
		a.reportCommand(),
		a.validateCommand(),
	)
	return root
}

// load reads the configuration in its layers and applies the flags last.
func (a *app) load(cmd *cobra.Command) error {
	getenv := a.env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
		a.env.Getenv = getenv
	}
	cfg, err := config.Load(a.flags.config, getenv)
	if err != nil {
		return usageError("%w", err)
	}
	f := cmd.Flags()
	if f.Changed("model") {
		cfg.Model = a.flags.model
	}
	if f.Changed("runs-dir") {
		cfg.RunsDir = a.flags.runsDir
	}
	if f.Changed("store") {
		cfg.Store = a.flags.store
	}
	if f.Changed("log-level") {
		cfg.Log.Level = a.flags.logLevel
	}
	if f.Changed("budget-tokens") {
		cfg.Budget.Tokens = a.flags.budgetTokens
	}
	if f.Changed("budget-dollars") {
		cfg.Budget.Dollars = a.flags.budgetDollars
	}
	if f.Changed("executor") {
		cfg.Executor = a.flags.executor
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%w", err)
	}
	a.cfg = cfg
	paper.SetCacheDir(cfg.CacheDir)
	a.redact = secret.FromEnv(getenv, append(providers.KeyVars(cfg.Endpoints()), literatureKeyVars...)...)
	a.log = slog.New(a.redact.Handler(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: level(cfg.Log.Level)})))
	return nil
}

func level(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return slog.LevelWarn
	}
	return l
}
