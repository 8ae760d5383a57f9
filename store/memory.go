package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Memory is one entry of the research memory: an idea a finished research
// run tried on a task and how it scored.
type Memory struct {
	ID int64
	// Task and Fingerprint are the key: the task's name and the hash of
	// its data.
	Task, Fingerprint string
	RunID             string
	Created           time.Time
	// Idea is the idea's title; Changes summarises the code changes.
	Idea, Changes string
	Metric, Goal  string
	// Baseline and Best are the metric before and after; Best is nil when
	// no run produced one. Relative is the change in the goal's direction
	// (0.44 = 44% better); nil when undefined.
	Baseline, Best, Relative *float64
	// Verdict is how the run judged it: validated, not significant,
	// stopped in a phase, ...
	Verdict string
}

// Remember adds an entry to the research memory, replacing the entry the
// same run made for the same idea (a run stopped and then resumed to its
// end is remembered once, as it ended).
func (s *Store) Remember(ctx context.Context, m Memory) error {
	if m.Task == "" || m.Fingerprint == "" {
		return fmt.Errorf("remember: an entry needs a task and a fingerprint")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if m.RunID != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM memory WHERE run_id = ? AND idea = ?`, m.RunID, m.Idea); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO memory (task, fingerprint, run_id, created_at, idea, changes, metric, goal, baseline, best, relative, verdict)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Task, m.Fingerprint, m.RunID, timeText(now()), m.Idea, m.Changes, m.Metric, m.Goal, m.Baseline, m.Best, m.Relative, m.Verdict)
		return err
	})
}

// Memories lists the research memory, oldest first: every entry, or those
// of task (and of fingerprint, when it is not empty).
func (s *Store) Memories(ctx context.Context, task, fingerprint string) ([]Memory, error) {
	q := `SELECT id, task, fingerprint, run_id, created_at, idea, changes, metric, goal, baseline, best, relative, verdict FROM memory
		WHERE (? = '' OR task = ?) AND (? = '' OR fingerprint = ?) ORDER BY id`
	rows, err := s.db.QueryContext(ctx, q, task, task, fingerprint, fingerprint)
	if err != nil {
		return nil, fmt.Errorf("read the research memory: %w", err)
	}
	defer rows.Close()
	var out []Memory
	for rows.Next() {
		var m Memory
		if err := rows.Scan(&m.ID, &m.Task, &m.Fingerprint, &m.RunID, timeScan{&m.Created}, &m.Idea, &m.Changes, &m.Metric, &m.Goal,
			&m.Baseline, &m.Best, &m.Relative, &m.Verdict); err != nil {
			return nil, fmt.Errorf("read the research memory: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ForgetMemories deletes the research memory of task (every task when it
// is empty) and returns how many entries went.
func (s *Store) ForgetMemories(ctx context.Context, task string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM memory WHERE ? = '' OR task = ?`, task, task)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clear the research memory: %w", err)
	}
	return n, nil
}
