package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/store"
)

func (a *app) runsRmCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "rm RUN [RUN...]",
		Short: "Remove runs: their records in the store and their directories (never a run a process works on)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var doomed []store.RunInfo
			for _, ref := range args {
				run, err := st.Run(ctx, ref)
				if err != nil {
					return usageError("%w (list runs with `mlrc runs`); nothing was removed", err)
				}
				info, err := run.Info(ctx)
				if err != nil {
					return err
				}
				if err := a.removable(info); err != nil {
					return usageError("%w; nothing was removed", err)
				}
				doomed = append(doomed, info)
			}
			return a.removeRuns(ctx, st, doomed, nil, yes)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before removing")
	return cmd
}

func (a *app) runsGCCommand() *cobra.Command {
	var yes bool
	var olderThan time.Duration
	var statuses []string
	cmd := &cobra.Command{
		Use:   "gc [--older-than 168h] [--status failed,stopped,interrupted] [--yes]",
		Short: "Remove old runs that did not finish, and run directories the store no longer knows",
		Long: `Remove the runs whose status is one of --status (failed, stopped and interrupted by default) and
that started more than --older-than ago, and the directories in the runs directory that hold a run.json
but have no run in the store (left by a removed or lost database). A run a process works on is never
removed, nor anything outside the runs directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			want := map[string]bool{}
			for _, s := range statuses {
				switch s {
				case store.StatusFailed, store.StatusStopped, store.StatusInterrupted, store.StatusDone:
					want[s] = true
				default:
					return usageError("--status %q: want failed, stopped, interrupted or done", s)
				}
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.Runs(ctx)
			if err != nil {
				return err
			}
			known := map[string]bool{}
			var doomed []store.RunInfo
			cutoff := time.Now().Add(-olderThan)
			for _, info := range runs {
				known[filepath.Clean(info.Dir)] = true
				if want[info.Status] && info.Created.Before(cutoff) && a.removable(info) == nil {
					doomed = append(doomed, info)
				}
			}
			orphans, err := a.orphanDirs(known)
			if err != nil {
				return err
			}
			if len(doomed) == 0 && len(orphans) == 0 {
				fmt.Fprintln(a.env.Stdout, "nothing to remove")
				return nil
			}
			return a.removeRuns(ctx, st, doomed, orphans, yes)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&yes, "yes", "y", false, "do not ask before removing")
	f.DurationVar(&olderThan, "older-than", 7*24*time.Hour, "only runs started longer ago than this")
	f.StringSliceVar(&statuses, "status", []string{store.StatusFailed, store.StatusStopped, store.StatusInterrupted}, "statuses of the runs to remove")
	return cmd
}

// removable says why the run cannot be removed: a process works on it, or
// its directory is not one of the runs directory's own.
func (a *app) removable(info store.RunInfo) error {
	if pid, held, err := store.Holder(info.Dir); err != nil {
		return fmt.Errorf("run %s: cannot tell whether a process works on it: %w", info.ID, err)
	} else if held {
		return fmt.Errorf("run %s is in use by process %d: stop it first", info.ID, pid)
	}
	if _, err := a.ownDir(info.Dir, info.ID); err != nil {
		return fmt.Errorf("run %s: %w", info.ID, err)
	}
	return nil
}

// ownDir checks that dir, symlinks resolved, is the directory named id
// directly inside the runs directory, and returns it resolved.
func (a *app) ownDir(dir, id string) (string, error) {
	root, err := filepath.EvalSymlinks(a.cfg.RunsDir)
	if err != nil {
		return "", fmt.Errorf("the runs directory %s: %w", a.cfg.RunsDir, err)
	}
	if root, err = filepath.Abs(root); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil // nothing on disk to remove
	}
	if err != nil {
		return "", err
	}
	if real, err = filepath.Abs(real); err != nil {
		return "", err
	}
	if filepath.Dir(real) != root || filepath.Base(real) != id {
		return "", fmt.Errorf("its directory %s is not %s inside the runs directory %s: remove it by hand", dir, id, root)
	}
	return real, nil
}

// orphanDirs are the directories of the runs directory that hold a
// run.json and are no run the store knows.
func (a *app) orphanDirs(known map[string]bool) ([]string, error) {
	ents, err := os.ReadDir(a.cfg.RunsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(a.cfg.RunsDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		dir := filepath.Join(abs, e.Name())
		if !e.IsDir() || known[dir] {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, "run.json")); err != nil {
			continue
		}
		if _, held, err := store.Holder(dir); err != nil || held {
			continue
		}
		out = append(out, dir)
	}
	return out, nil
}

// removeRuns lists what it is about to remove, asks (unless yes), then
// removes each run's record and directory, each run under its lock so that
// no resume starts on it meanwhile.
func (a *app) removeRuns(ctx context.Context, st *store.Store, runs []store.RunInfo, orphans []string, yes bool) error {
	out := a.env.Stdout
	for _, r := range runs {
		fmt.Fprintf(out, "run %s (%s, %s, started %s): %s\n", r.ID, r.Kind, r.Status, r.Created.Local().Format("2006-01-02 15:04"), r.Dir)
	}
	for _, d := range orphans {
		fmt.Fprintf(out, "directory without a run in the store: %s\n", d)
	}
	if !yes {
		fmt.Fprintf(out, "remove %d run(s) and %d directory(ies)? [y/N] ", len(runs), len(orphans))
		line, _ := bufio.NewReader(a.env.Stdin).ReadString('\n')
		if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
			fmt.Fprintln(out, "nothing removed")
			return nil
		}
	}
	removed := 0
	for _, info := range runs {
		run, err := st.Run(ctx, info.ID)
		if err != nil {
			return err
		}
		locked := false
		if _, err := os.Stat(info.Dir); err == nil {
			if err := run.Lock(); err != nil {
				return inUse(err)
			}
			locked = true
		}
		dir, err := a.ownDir(info.Dir, info.ID)
		if err == nil {
			err = st.DeleteRun(ctx, info.ID)
		}
		if err == nil && dir != "" {
			err = os.RemoveAll(dir)
		}
		if locked {
			run.Unlock()
		}
		if err != nil {
			return fmt.Errorf("remove run %s: %w (%d removed before it)", info.ID, err, removed)
		}
		removed++
	}
	for _, d := range orphans {
		if _, err := a.ownDir(d, filepath.Base(d)); err != nil {
			return err
		}
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "removed %d run(s) and %d directory(ies)\n", removed, len(orphans))
	return nil
}
