package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// NewRun describes a run to create.
type NewRun struct {
	// ID is the run's id; when empty one is made from the time and random
	// hex, like "20261125-181800-3fa2c1". Ids sort by creation time.
	ID string
	// Kind says what the run does: "llm", "experiment", "idea", "research"…
	Kind  string
	Model string
	// Config is marshalled to JSON and kept with the run. It must hold no
	// secrets: it is also written to run.json.
	Config any
	// RunsDir is the directory that holds run directories; the run's own
	// directory, RunsDir/<id>, is created and must not exist yet.
	RunsDir string
}

// RunInfo is a run's row.
type RunInfo struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status"`
	Model    string          `json:"model,omitempty"`
	Dir      string          `json:"dir"` // absolute
	Config   json.RawMessage `json:"config,omitempty"`
	Error    string          `json:"error,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Finished time.Time       `json:"finished,omitzero"` // zero while running
	// PID is the process working on a running run, when it can be read.
	// Status is StatusInterrupted, not StatusRunning, for a run recorded as
	// running that no process holds (its process was killed).
	PID int `json:"pid,omitempty"`
}

// Run is a handle on one run, for recording what it does. A Run remembers
// the steps begun through it and not yet ended; two handles on the same run
// (say, from two calls to Store.Run) do not share that.
//
// One process at a time works on a run: it holds the run's lock (see Lock),
// which CreateRun takes for the run it creates.
type Run struct {
	ID  string
	Dir string

	s      *Store
	steps  openSteps
	fileMu sync.Mutex // serializes rewrites of run.json
	lockMu sync.Mutex
	lock   *os.File // the lock file while this handle holds the run's lock
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// newID returns a run id: the UTC time and six random hex digits.
func newID(t time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// CreateRun records a new run with status running, creates its directory and
// writes run.json there.
func (s *Store) CreateRun(ctx context.Context, nr NewRun) (*Run, error) {
	if nr.Kind == "" {
		return nil, errors.New("create run: no kind given")
	}
	if nr.RunsDir == "" {
		return nil, errors.New("create run: no runs directory given")
	}
	if nr.ID != "" && !idPattern.MatchString(nr.ID) {
		return nil, fmt.Errorf("create run %q: an id may hold only letters, digits, '.', '_' and '-'", nr.ID)
	}
	config, err := jsonText(nr.Config)
	if err != nil {
		return nil, fmt.Errorf("create run: config: %w", err)
	}
	runsDir, err := filepath.Abs(nr.RunsDir)
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	if err := os.MkdirAll(runsDir, 0o755); err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}

	// Creating the directory claims the id; a generated id that is taken is
	// drawn again.
	t := now()
	id, dir := nr.ID, ""
	for try := 0; ; try++ {
		if nr.ID == "" {
			id = newID(t)
		}
		dir = filepath.Join(runsDir, id)
		err = os.Mkdir(dir, 0o755)
		if err == nil || !errors.Is(err, os.ErrExist) || nr.ID != "" || try == 10 {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}

	lock, err := lockDir(dir, id)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}
	info := RunInfo{ID: id, Kind: nr.Kind, Status: StatusRunning, Model: nr.Model, Dir: dir, Created: t, Updated: t}
	if config != nil {
		info.Config = json.RawMessage(config.(string))
	}
	err = writeRunFile(info)
	if err == nil {
		err = s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO runs
				(id, kind, status, model, dir, config, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				id, nr.Kind, StatusRunning, nr.Model, dir, config, timeText(t), timeText(t))
			return err
		})
	}
	if err != nil {
		lock.Close()
		os.RemoveAll(dir) // ours: Mkdir above created it
		return nil, fmt.Errorf("create run %s: %w", id, err)
	}
	return &Run{ID: id, Dir: dir, s: s, lock: lock}, nil
}

// Run returns a handle on an existing run, to read it or, after Lock, to
// resume it. ref is the run's id or a prefix of it that matches one run
// only.
func (s *Store) Run(ctx context.Context, ref string) (*Run, error) {
	id, err := s.lookup(ctx, ref)
	if err != nil {
		return nil, err
	}
	info, err := runInfo(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return &Run{ID: info.ID, Dir: info.Dir, s: s}, nil
}

// lookup resolves ref, an id or a unique prefix of one, to an id.
func (s *Store) lookup(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("run: no id given: %w", ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM runs
		WHERE substr(id, 1, length(?1)) = ?1
		ORDER BY id = ?1 DESC, id LIMIT 6`, ref)
	if err != nil {
		return "", fmt.Errorf("run %q: %w", ref, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("run %q: %w", ref, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("run %q: %w", ref, err)
	}
	switch {
	case len(ids) == 0:
		return "", fmt.Errorf("run %q: %w", ref, ErrNotFound)
	case ids[0] == ref || len(ids) == 1:
		return ids[0], nil
	}
	list := strings.Join(ids[:min(len(ids), 5)], ", ")
	if len(ids) > 5 {
		list += ", …"
	}
	return "", fmt.Errorf("run %q: %w: it is the start of %s; give more of the id", ref, ErrAmbiguous, list)
}

const runColumns = `id, kind, status, model, dir, config, error, created_at, updated_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (RunInfo, error) {
	var r RunInfo
	err := sc.Scan(&r.ID, &r.Kind, &r.Status, &r.Model, &r.Dir, (*[]byte)(&r.Config), &r.Error,
		timeScan{&r.Created}, timeScan{&r.Updated}, timeScan{&r.Finished})
	return r, err
}

// runInfo returns the run's row, its status as seen now (see RunInfo.PID).
func runInfo(ctx context.Context, q querier, id string) (RunInfo, error) {
	info, err := storedRunInfo(ctx, q, id)
	if err == nil {
		info.live()
	}
	return info, err
}

// storedRunInfo returns the run's row as stored.
func storedRunInfo(ctx context.Context, q querier, id string) (RunInfo, error) {
	info, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return RunInfo{}, fmt.Errorf("run %q: %w", id, err)
	}
	return info, nil
}

// Runs lists all runs, newest first.
func (s *Store) Runs(ctx context.Context) ([]RunInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var runs []RunInfo
	for rows.Next() {
		info, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		info.live()
		runs = append(runs, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// Info returns the run's row, its status as seen now: interrupted when it
// is recorded as running and no process holds it.
func (r *Run) Info(ctx context.Context) (RunInfo, error) { return runInfo(ctx, r.s.db, r.ID) }

// SetStatus sets the run's status and error message and rewrites run.json.
// done, failed and stopped set the finish time; running (a resume) clears it.
func (r *Run) SetStatus(ctx context.Context, status, errMsg string) error {
	if status != StatusRunning && !terminal(status) {
		return fmt.Errorf("run %s: set status %q: want %s, %s, %s or %s",
			r.ID, status, StatusRunning, StatusDone, StatusFailed, StatusStopped)
	}
	t := now()
	var finished any
	if terminal(status) {
		finished = timeText(t)
	}
	r.fileMu.Lock()
	defer r.fileMu.Unlock()
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, updated_at = ?, finished_at = ?
			WHERE id = ?`, status, errMsg, timeText(t), finished, r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %s: set status %s: %w", r.ID, status, err)
	}
	info, err := storedRunInfo(ctx, r.s.db, r.ID)
	if err != nil {
		return err
	}
	if err := writeRunFile(info); err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	return nil
}

// runFile is the content of run.json.
type runFile struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Model    string          `json:"model,omitempty"`
	Status   string          `json:"status"`
	Error    string          `json:"error,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Finished time.Time       `json:"finished,omitzero"`
	Config   json.RawMessage `json:"config,omitempty"`
}

func writeRunFile(info RunInfo) error {
	b, err := json.MarshalIndent(runFile{
		ID: info.ID, Kind: info.Kind, Model: info.Model, Status: info.Status, Error: info.Error,
		Created: info.Created, Updated: info.Updated, Finished: info.Finished, Config: info.Config,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(info.Dir, "run.json"), append(b, '\n')); err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	return nil
}

// DeleteRun removes the run id from the database, its phases, steps,
// calls, events and artifacts with it. The run directory is the caller's
// to remove, after checking that no process holds the run.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("run %s: delete: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("run %s: delete: no such run", id)
		}
		return nil
	})
}
