package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
)

// openStore opens the run store named by the configuration.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, a.cfg.StorePath())
	if err != nil {
		return nil, fmt.Errorf("open run store %s: %w", a.cfg.StorePath(), err)
	}
	return st, nil
}

// session is one run in progress with its log.
type session struct {
	run     *store.Run
	log     *slog.Logger
	logFile *os.File
}

// close closes the log and releases the run's lock: call it after the
// run's last write (finishRun).
func (s *session) close() {
	if s.logFile != nil {
		s.logFile.Close()
	}
	s.run.Unlock()
}

// startRun creates a run and its JSON log file (log.jsonl in the run
// directory); the log goes to the terminal too, at the configured level.
// Both pass through the secret redactor.
func (a *app) startRun(ctx context.Context, st *store.Store, kind, model string) (*session, error) {
	return a.startRunConfig(ctx, st, kind, model, research.Config{Settings: a.cfg})
}

// startRunConfig creates a run storing config, for commands that resume.
func (a *app) startRunConfig(ctx context.Context, st *store.Store, kind, model string, config research.Config) (*session, error) {
	run, err := st.CreateRun(ctx, store.NewRun{Kind: kind, Model: model, Config: config, RunsDir: a.cfg.RunsDir})
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	return a.openSession(run)
}

// reopenRun continues an existing run: this process its one writer, status
// running again, same log. A run another process works on is refused
// before anything is written.
func (a *app) reopenRun(ctx context.Context, st *store.Store, id string) (*session, error) {
	run, err := st.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := run.Lock(); err != nil {
		return nil, inUse(err)
	}
	if err := run.SetStatus(ctx, store.StatusRunning, ""); err != nil {
		run.Unlock()
		return nil, err
	}
	s, err := a.openSession(run)
	if err == nil {
		s.log.Info("run resumed")
	}
	return s, err
}

// inUse adds what to do to a run's *store.InUseError.
func inUse(err error) error {
	var iu *store.InUseError
	if !errors.As(err, &iu) {
		return err
	}
	if iu.PID > 0 {
		return fmt.Errorf("%w: it is still working on the run; wait for it to end, or stop it (kill %d) and resume again", err, iu.PID)
	}
	return fmt.Errorf("%w: wait for it to end, or stop it and resume again", err)
}

func (a *app) openSession(run *store.Run) (*session, error) {
	f, err := os.OpenFile(filepath.Join(run.Dir, "log.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		run.Unlock()
		return nil, fmt.Errorf("run log: %w", err)
	}
	h := slog.NewMultiHandler(
		a.log.Handler(),
		a.redact.Handler(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})),
	)
	return &session{run: run, log: slog.New(h).With("run", run.ID), logFile: f}, nil
}
