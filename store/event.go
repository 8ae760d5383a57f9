package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Event is one thing that happened in a run: a phase started, a metric, a
// cost update… Type names it; Data is its JSON payload.
type Event struct {
	Seq  int64           `json:"seq"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Emit records an event of type typ with data, marshalled to JSON, and
// appends it to events.jsonl.
func (r *Run) Emit(ctx context.Context, typ string, data any) error {
	if typ == "" {
		return fmt.Errorf("run %s: emit: no event type given", r.ID)
	}
	text, err := jsonText(data)
	if err != nil {
		return fmt.Errorf("run %s: emit %s: %w", r.ID, typ, err)
	}
	var ev Event
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		ev, err = insertEvent(ctx, tx, r.ID, typ, text)
		return err
	})
	if err != nil {
		return fmt.Errorf("run %s: emit %s: %w", r.ID, typ, err)
	}
	if err := appendLine(filepath.Join(r.Dir, "events.jsonl"), ev); err != nil {
		return fmt.Errorf("run %s: emit %s: %w", r.ID, typ, err)
	}
	return nil
}

// insertEvent records an event in tx; text is its data as JSON text or nil.
func insertEvent(ctx context.Context, tx *sql.Tx, runID, typ string, text any) (Event, error) {
	ev := Event{Time: now(), Type: typ}
	if text != nil {
		ev.Data = json.RawMessage(text.(string))
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO events (run_id, seq, time, type, data)
		VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?1), ?2, ?3, ?4)
		RETURNING seq`, runID, timeText(ev.Time), typ, text).Scan(&ev.Seq)
	return ev, err
}

// EventsAfter lists the events of the run id with a seq above after, in
// order, at most limit of them (0: all). It is how a reader in another
// process follows a run: the store is the source of truth.
func (s *Store) EventsAfter(ctx context.Context, id string, after int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time, type, data FROM events WHERE run_id = ? AND seq > ?
		ORDER BY seq LIMIT ?`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("run %s: list events: %w", id, err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var ev Event
		if err := rows.Scan(&ev.Seq, timeScan{&ev.Time}, &ev.Type, (*[]byte)(&ev.Data)); err != nil {
			return nil, fmt.Errorf("run %s: list events: %w", id, err)
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list events: %w", id, err)
	}
	return events, nil
}

// Events lists the run's events in order.
func (r *Run) Events(ctx context.Context) ([]Event, error) {
	rows, err := r.s.db.QueryContext(ctx, `SELECT seq, time, type, data FROM events WHERE run_id = ? ORDER BY seq`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("run %s: list events: %w", r.ID, err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var ev Event
		if err := rows.Scan(&ev.Seq, timeScan{&ev.Time}, &ev.Type, (*[]byte)(&ev.Data)); err != nil {
			return nil, fmt.Errorf("run %s: list events: %w", r.ID, err)
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list events: %w", r.ID, err)
	}
	return events, nil
}

// LastEvent returns the run id's last event of type typ, and false when it
// has none.
func (s *Store) LastEvent(ctx context.Context, id, typ string) (Event, bool, error) {
	var ev Event
	err := s.db.QueryRowContext(ctx, `SELECT seq, time, type, data FROM events WHERE run_id = ? AND type = ?
		ORDER BY seq DESC LIMIT 1`, id, typ).Scan(&ev.Seq, timeScan{&ev.Time}, &ev.Type, (*[]byte)(&ev.Data))
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("run %s: last %s event: %w", id, typ, err)
	}
	return ev, true, nil
}
