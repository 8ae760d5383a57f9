package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// PhaseInfo is a phase's row.
type PhaseInfo struct {
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// StepInfo is a step's row.
type StepInfo struct {
	Seq     int64           `json:"seq"`
	Phase   string          `json:"phase,omitempty"`
	Kind    string          `json:"kind"`
	Status  string          `json:"status"`
	Input   json.RawMessage `json:"input,omitempty"`
	Output  json.RawMessage `json:"output,omitempty"`
	Started time.Time       `json:"started"`
	Ended   time.Time       `json:"ended,omitzero"`
}

// BeginPhase marks the phase name as running. Beginning a phase that exists
// (a resumed run) reuses its row: it keeps its start time and runs again.
func (r *Run) BeginPhase(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("run %s: begin phase: no name given", r.ID)
	}
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO phases (run_id, name, status, started_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, name) DO UPDATE SET status = excluded.status, ended_at = NULL`,
			r.ID, name, StatusRunning, timeText(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("run %s: begin phase %s: %w", r.ID, name, err)
	}
	return nil
}

// EndPhase ends the phase name with status done, failed or stopped.
func (r *Run) EndPhase(ctx context.Context, name, status string) error {
	if err := checkEndStatus(status); err != nil {
		return fmt.Errorf("run %s: end phase %s: %w", r.ID, name, err)
	}
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE phases SET status = ?, ended_at = ? WHERE run_id = ? AND name = ?`,
			status, timeText(now()), r.ID, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("phase never begun: %w", ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %s: end phase %s: %w", r.ID, name, err)
	}
	return nil
}

// Phases lists the run's phases in the order they began.
func (r *Run) Phases(ctx context.Context) ([]PhaseInfo, error) { return listPhases(ctx, r.s.db, r.ID) }

func listPhases(ctx context.Context, q querier, runID string) ([]PhaseInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, status, started_at, ended_at FROM phases
		WHERE run_id = ? ORDER BY started_at, id`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %s: list phases: %w", runID, err)
	}
	defer rows.Close()
	var phases []PhaseInfo
	for rows.Next() {
		var p PhaseInfo
		if err := rows.Scan(&p.Name, &p.Status, timeScan{&p.Started}, timeScan{&p.Ended}); err != nil {
			return nil, fmt.Errorf("run %s: list phases: %w", runID, err)
		}
		phases = append(phases, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list phases: %w", runID, err)
	}
	return phases, nil
}

// Step is a step begun and not necessarily ended.
type Step struct {
	run *Run
	id  int64
	seq int64
}

// Seq returns the step's number within its run: 1, 2, 3, …
func (st *Step) Seq() int64 { return st.seq }

// BeginStep records a new running step, numbered one past the run's last,
// in phase (empty for none); input is marshalled to JSON. While it is the
// only step open on r, calls recorded through r.RecordCall are linked to it.
func (r *Run) BeginStep(ctx context.Context, phase, kind string, input any) (*Step, error) {
	if kind == "" {
		return nil, fmt.Errorf("run %s: begin step: no kind given", r.ID)
	}
	in, err := jsonText(input)
	if err != nil {
		return nil, fmt.Errorf("run %s: begin step %s: input: %w", r.ID, kind, err)
	}
	var ph any
	if phase != "" {
		ph = phase
	}
	st := &Step{run: r}
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO steps (run_id, phase, seq, kind, input, status, started_at)
			VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = ?1), ?3, ?4, ?5, ?6)
			RETURNING id, seq`,
			r.ID, ph, kind, in, StatusRunning, timeText(now())).Scan(&st.id, &st.seq)
	})
	if err != nil {
		return nil, fmt.Errorf("run %s: begin step %s: %w", r.ID, kind, err)
	}
	r.steps.add(st)
	return st, nil
}

// End ends the step with status done, failed or stopped and its output,
// marshalled to JSON. A step ends once; ending it again is an error.
func (st *Step) End(ctx context.Context, status string, output any) error {
	r := st.run
	if err := checkEndStatus(status); err != nil {
		return fmt.Errorf("run %s: end step %d: %w", r.ID, st.seq, err)
	}
	out, err := jsonText(output)
	if err != nil {
		return fmt.Errorf("run %s: end step %d: output: %w", r.ID, st.seq, err)
	}
	errEnded := errors.New("step already ended")
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE steps SET status = ?, output = ?, ended_at = ?
			WHERE id = ? AND status = ?`, status, out, timeText(now()), st.id, StatusRunning)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errEnded
		}
		return nil
	})
	// The step stays open while the database says it is running, so that
	// End can be tried again after a failure to write.
	if err == nil || errors.Is(err, errEnded) {
		r.steps.remove(st)
	}
	if err != nil {
		return fmt.Errorf("run %s: end step %d: %w", r.ID, st.seq, err)
	}
	return nil
}

// Steps lists the run's steps in order.
func (r *Run) Steps(ctx context.Context) ([]StepInfo, error) { return listSteps(ctx, r.s.db, r.ID) }

func listSteps(ctx context.Context, q querier, runID string) ([]StepInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, phase, kind, status, input, output, started_at, ended_at
		FROM steps WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %s: list steps: %w", runID, err)
	}
	defer rows.Close()
	var steps []StepInfo
	for rows.Next() {
		var s StepInfo
		var phase sql.NullString
		if err := rows.Scan(&s.Seq, &phase, &s.Kind, &s.Status, (*[]byte)(&s.Input), (*[]byte)(&s.Output),
			timeScan{&s.Started}, timeScan{&s.Ended}); err != nil {
			return nil, fmt.Errorf("run %s: list steps: %w", runID, err)
		}
		s.Phase = phase.String
		steps = append(steps, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list steps: %w", runID, err)
	}
	return steps, nil
}

// openSteps is the set of steps begun through one Run and not yet ended.
// With parallel workers several steps are open at once and no one of them is
// "the current step"; only is then nil.
type openSteps struct {
	mu   sync.Mutex
	open map[*Step]struct{}
}

func (o *openSteps) add(st *Step) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = make(map[*Step]struct{})
	}
	o.open[st] = struct{}{}
}

func (o *openSteps) remove(st *Step) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.open, st)
}

// only returns the one open step, or nil when none or several are open.
func (o *openSteps) only() *Step {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.open) != 1 {
		return nil
	}
	for st := range o.open {
		return st
	}
	return nil
}

// AbandonSteps ends every step of the run still marked running — steps a
// killed process left open — with status stopped and output {"interrupted":
// true}, and returns their seqs. A resumed run calls it before going on.
func (r *Run) AbandonSteps(ctx context.Context) ([]int64, error) {
	var seqs []int64
	err := r.s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE steps SET status = ?, output = '{"interrupted":true}', ended_at = ?
			WHERE run_id = ? AND status = ? RETURNING seq`, StatusStopped, timeText(now()), r.ID, StatusRunning)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				return err
			}
			seqs = append(seqs, s)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("run %s: abandon steps: %w", r.ID, err)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}
