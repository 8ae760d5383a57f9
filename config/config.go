// Package config holds mlrc's settings and loads them in layers: defaults,
// then a YAML file (mlrc.yaml in the working directory, or --config FILE),
// then environment variables, then command-line flags (applied by the CLI).
// Unknown keys in the file are an error naming the key and the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mlrc/mlrc/executor/kubeconf"
	"github.com/mlrc/mlrc/executor/slurm"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/providers"
)

// DefaultFile is read from the working directory when no --config is given.
const DefaultFile = "mlrc.yaml"

// Config is every setting mlrc has.
type Config struct {
	// Model is "provider/model"; empty means: pick from the keys present.
	Model string `yaml:"model"`
	// RunsDir holds one directory per run.
	RunsDir string `yaml:"runs_dir"`
	// Store is the SQLite run store; default RunsDir/mlrc.db.
	Store string `yaml:"store"`
	// Literature is the local literature index; default RunsDir/literature.db.
	Literature string `yaml:"literature"`
	// Python runs experiments.
	Python string `yaml:"python"`
	// CacheDir keeps what is costly to make and safe to share between runs
	// of one user on one machine (PDFium's compiled code). Default
	// $XDG_CACHE_HOME/mlrc, else a per-user directory under /var/tmp, so
	// that a fresh HOME (CI, containers) still finds it.
	CacheDir string `yaml:"cache_dir"`
	// Sandbox is the sandbox tool: "bwrap", or "none" for the weaker fallback.
	Sandbox string `yaml:"sandbox"`
	// Executor is where runs go: "local" (the sandbox on this machine),
	// "slurm" or "kubernetes", with the settings below.
	Executor   string          `yaml:"executor"`
	Slurm      slurm.Config    `yaml:"slurm"`
	Kubernetes kubeconf.Config `yaml:"kubernetes"`
	// GPUsPerRun is how many GPUs each run gets (CUDA_VISIBLE_DEVICES
	// and the devices in the sandbox locally; --gres or nvidia.com/gpu on
	// a cluster). -1, the default: one when this machine has NVIDIA GPUs
	// and runs are local, else none.
	GPUsPerRun int        `yaml:"gpus_per_run"`
	LLM        LLM        `yaml:"llm"`
	Budget     llm.Budget `yaml:"budget"`
	// Prices add to or replace entries of the built-in price table.
	Prices llm.Prices `yaml:"prices"`
	// Providers add OpenAI- or Anthropic-compatible endpoints by name.
	Providers map[string]providers.Endpoint `yaml:"providers"`
	Log       Log                           `yaml:"log"`
}

// LLM tunes model calls.
type LLM struct {
	Timeout     time.Duration `yaml:"timeout"`  // per attempt
	Attempts    int           `yaml:"attempts"` // tries per call, including the first
	BaseDelay   time.Duration `yaml:"base_delay"`
	MaxDelay    time.Duration `yaml:"max_delay"`
	Stream      bool          `yaml:"stream"`
	MaxTokens   int           `yaml:"max_tokens"`
	Temperature *float64      `yaml:"temperature"`
	// ContextWindow is the model's context in tokens; the papers the
	// IdeaAgent reads get a share of it (idea.PaperTokens).
	ContextWindow int `yaml:"context_window"`
}

// Log sets the terminal log level; runs always keep a full JSON log.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
}

// Default returns the settings used when nothing else is said.
func Default() Config {
	rp := llm.DefaultRetryPolicy()
	return Config{
		RunsDir:    "runs",
		Python:     "/usr/bin/python3",
		Sandbox:    "bwrap",
		Executor:   "local",
		GPUsPerRun: -1,
		LLM: LLM{
			Timeout:   rp.Timeout,
			Attempts:  rp.Attempts,
			BaseDelay: rp.BaseDelay,
			MaxDelay:  rp.MaxDelay,
			Stream:    true,
			MaxTokens: 4096,
			// What local servers commonly offer; hosted models have more.
			ContextWindow: 32768,
		},
		Log: Log{Level: "warn"},
	}
}

// StorePath returns where the run store lives.
func (c Config) StorePath() string {
	if c.Store != "" {
		return c.Store
	}
	return filepath.Join(c.RunsDir, "mlrc.db")
}

// LiteraturePath returns where the literature index lives.
func (c Config) LiteraturePath() string {
	if c.Literature != "" {
		return c.Literature
	}
	return filepath.Join(c.RunsDir, "literature.db")
}

// RetryPolicy returns the retry settings for model calls.
func (c Config) RetryPolicy() llm.RetryPolicy {
	return llm.RetryPolicy{Attempts: c.LLM.Attempts, BaseDelay: c.LLM.BaseDelay, MaxDelay: c.LLM.MaxDelay, Timeout: c.LLM.Timeout}
}

// Endpoints returns the configured providers over the built-in ones.
func (c Config) Endpoints() map[string]providers.Endpoint {
	eps := providers.Builtin()
	for k, v := range c.Providers {
		eps[k] = v
	}
	return eps
}

// Load builds the configuration: defaults, then the file at path (or
// mlrc.yaml in the working directory when path is empty and that file
// exists), then the environment read through getenv.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	file := path
	if file == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return cfg, fmt.Errorf("config file %s does not exist: check --config", file)
			}
			return cfg, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := Decode(&cfg, f, file); err != nil {
			return cfg, err
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

// Decode reads YAML from r over cfg, rejecting unknown keys. name is used in
// error messages.
func Decode(cfg *Config, r io.Reader, name string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if m := unknownField.FindAllStringSubmatch(err.Error(), -1); m != nil {
			var keys []string
			for _, x := range m {
				keys = append(keys, fmt.Sprintf("%q (line %s)", x[2], x[1]))
			}
			return fmt.Errorf("%s: unknown key %s: remove it or check its spelling (the keys are listed in README.md, Configuration)", name, strings.Join(keys, ", "))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Environment variables mlrc reads for its own settings.
const (
	EnvModel         = "MLRC_MODEL"
	EnvRunsDir       = "MLRC_RUNS_DIR"
	EnvStore         = "MLRC_STORE"
	EnvPython        = "MLRC_PYTHON"
	EnvLiterature    = "MLRC_LITERATURE"
	EnvCacheDir      = "MLRC_CACHE_DIR"
	EnvBudgetTokens  = "MLRC_BUDGET_TOKENS"
	EnvBudgetDollars = "MLRC_BUDGET_DOLLARS"
	EnvLogLevel      = "MLRC_LOG_LEVEL"
)

func applyEnv(cfg *Config, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	str := map[string]*string{EnvModel: &cfg.Model, EnvRunsDir: &cfg.RunsDir, EnvStore: &cfg.Store, EnvPython: &cfg.Python, EnvLogLevel: &cfg.Log.Level, EnvLiterature: &cfg.Literature, EnvCacheDir: &cfg.CacheDir}
	for k, p := range str {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			*p = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvBudgetTokens)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want a whole number of tokens, e.g. 200000", EnvBudgetTokens, v)
		}
		cfg.Budget.Tokens = n
	}
	if v := strings.TrimSpace(getenv(EnvBudgetDollars)); v != "" {
		f, err := strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64)
		if err != nil || f < 0 {
			return fmt.Errorf("%s=%q: want an amount in dollars, e.g. 2.50", EnvBudgetDollars, v)
		}
		cfg.Budget.Dollars = f
	}
	return nil
}

// Validate checks values that have a fixed set of choices or a range.
func (c Config) Validate() error {
	var errs []error
	if c.Model != "" {
		if _, _, err := providers.Parse(c.Model); err != nil {
			errs = append(errs, fmt.Errorf("model: %w", err))
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Sandbox {
	case "bwrap", "none":
	default:
		errs = append(errs, fmt.Errorf("sandbox %q: want bwrap or none", c.Sandbox))
	}
	switch c.Executor {
	case "local":
	case "slurm":
		if err := c.Slurm.Validate(); err != nil {
			errs = append(errs, err)
		}
	case "kubernetes":
		if err := c.Kubernetes.Validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("executor %q: want local, slurm or kubernetes", c.Executor))
	}
	if c.GPUsPerRun < -1 {
		errs = append(errs, fmt.Errorf("gpus_per_run %d: want 0 or more (or -1: one per run when there are GPUs)", c.GPUsPerRun))
	}
	if c.LLM.Attempts < 1 {
		errs = append(errs, fmt.Errorf("llm.attempts %d: want at least 1", c.LLM.Attempts))
	}
	if c.LLM.ContextWindow < 4096 {
		errs = append(errs, fmt.Errorf("llm.context_window %d: want the model's context in tokens, at least 4096", c.LLM.ContextWindow))
	}
	if c.LLM.Timeout < 0 {
		errs = append(errs, fmt.Errorf("llm.timeout %s: want a positive duration such as 5m", c.LLM.Timeout))
	}
	if c.Budget.Tokens < 0 || c.Budget.Dollars < 0 {
		errs = append(errs, errors.New("budget: limits cannot be negative"))
	}
	if c.RunsDir == "" {
		errs = append(errs, errors.New("runs_dir: must not be empty"))
	}
	for name, ep := range c.Providers {
		switch ep.Kind {
		case providers.KindOpenAI, providers.KindAnthropic:
		default:
			errs = append(errs, fmt.Errorf("providers.%s.kind %q: want openai or anthropic", name, ep.Kind))
		}
	}
	return errors.Join(errs...)
}
