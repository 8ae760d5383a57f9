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

// Gate kinds: what a run asks a person.
const (
	GatePickIdea    = "pick_idea"    // which idea to implement; Options holds the ranking
	GateApprovePlan = "approve_plan" // before the first experiment
	GateCheckpoint  = "checkpoint"   // every N steps
	GateFinal       = "final"        // before the agent's final answer
	GateAsk         = "ask"          // a question from the agent
)

// Gate statuses. A gate is opened once and closed once: answered, or
// cancelled when its run stops waiting (its context ended, or a new gate of
// the run was opened after a crash left this one open).
const (
	GateOpen      = "open"
	GateAnswered  = "answered"
	GateCancelled = "cancelled"
)

// Who answered a gate.
const (
	ByTerminal = "terminal"
	ByWeb      = "web"
	ByMCP      = "mcp"
)

// Gate events, recorded in the run's events in the same transaction as the
// change, so that a reader following the events sees every gate.
const (
	EventGateOpened = "gate_opened"
	EventGateClosed = "gate_closed"
)

// GatePoll is how often WaitGate reads a gate again.
const GatePoll = 200 * time.Millisecond

// Gate is a gate's row.
type Gate struct {
	Run      string          `json:"run"`
	Seq      int64           `json:"seq"`
	Kind     string          `json:"kind"`
	Question string          `json:"question"`
	Options  json.RawMessage `json:"options,omitempty"`
	Status   string          `json:"status"`
	Answer   json.RawMessage `json:"answer,omitempty"`
	// AnsweredBy is terminal, web or mcp for an answered gate; for a
	// cancelled one, the reason.
	AnsweredBy string    `json:"answered_by,omitempty"`
	Opened     time.Time `json:"opened"`
	Closed     time.Time `json:"closed,omitzero"`
}

// ClosedError says that a gate was answered or cancelled before this answer
// came: the first answer wins. Gate is the gate as it is now.
type ClosedError struct{ Gate Gate }

func (e *ClosedError) Error() string {
	g := e.Gate
	if g.Status == GateAnswered {
		return fmt.Sprintf("gate %d of run %s was already answered from the %s", g.Seq, g.Run, g.AnsweredBy)
	}
	return fmt.Sprintf("gate %d of run %s was cancelled (%s)", g.Seq, g.Run, g.AnsweredBy)
}

func knownGateKind(kind string) bool {
	switch kind {
	case GatePickIdea, GateApprovePlan, GateCheckpoint, GateFinal, GateAsk:
		return true
	}
	return false
}

// OpenGate records a new open gate of the run, numbered one past its last,
// with the question and options (marshalled to JSON; nil for none). A run
// waits at one gate at a time, so gates of the run still open (left by a
// process that died while waiting) are cancelled first.
func (r *Run) OpenGate(ctx context.Context, kind, question string, options any) (Gate, error) {
	if !knownGateKind(kind) {
		return Gate{}, fmt.Errorf("run %s: open gate: kind %q: want %s, %s, %s, %s or %s", r.ID, kind,
			GatePickIdea, GateApprovePlan, GateCheckpoint, GateFinal, GateAsk)
	}
	opts, err := jsonText(options)
	if err != nil {
		return Gate{}, fmt.Errorf("run %s: open gate %s: options: %w", r.ID, kind, err)
	}
	g := Gate{Run: r.ID, Kind: kind, Question: question, Status: GateOpen, Opened: now()}
	if opts != nil {
		g.Options = json.RawMessage(opts.(string))
	}
	var events []Event
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		stale, err := closeOpenGates(ctx, tx, r.ID, "superseded: the run opened a new gate")
		if err != nil {
			return err
		}
		events = stale
		err = tx.QueryRowContext(ctx, `INSERT INTO gates (run_id, seq, kind, question, options, status, opened_at)
			VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM gates WHERE run_id = ?1), ?2, ?3, ?4, ?5, ?6)
			RETURNING seq`, r.ID, kind, question, opts, GateOpen, timeText(g.Opened)).Scan(&g.Seq)
		if err != nil {
			return err
		}
		ev, err := insertEvent(ctx, tx, r.ID, EventGateOpened, gateEventText(g))
		events = append(events, ev)
		return err
	})
	if err != nil {
		return Gate{}, fmt.Errorf("run %s: open gate %s: %w", r.ID, kind, err)
	}
	r.appendEvents(events)
	return g, nil
}

// closeOpenGates cancels the run's open gates with reason and returns the
// events it recorded.
func closeOpenGates(ctx context.Context, tx *sql.Tx, runID, reason string) ([]Event, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE gates SET status = ?, answered_by = ?, closed_at = ?
		WHERE run_id = ? AND status = ? RETURNING `+gateColumns, GateCancelled, reason, timeText(now()), runID, GateOpen)
	if err != nil {
		return nil, err
	}
	var closed []Gate
	for rows.Next() {
		g, err := scanGate(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		closed = append(closed, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var events []Event
	for _, g := range closed {
		ev, err := insertEvent(ctx, tx, runID, EventGateClosed, gateEventText(g))
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// gateEventText is the data of a gate event: the gate without its options
// (a reader fetches the gate for them).
func gateEventText(g Gate) any {
	g.Options = nil
	text, _ := jsonText(g)
	return text
}

// appendEvents appends committed events to events.jsonl; the database has
// them, so a failure here is not the caller's.
func (r *Run) appendEvents(events []Event) {
	for _, ev := range events {
		appendLine(filepath.Join(r.Dir, "events.jsonl"), ev)
	}
}

// AnswerGate answers gate seq of the run id with answer (marshalled to
// JSON), from by (terminal, web, mcp). Only an open gate takes an answer: the
// first answer wins, and a later one gets a *ClosedError saying who answered
// first, with the winning answer in its Gate.
func (s *Store) AnswerGate(ctx context.Context, id string, seq int64, answer any, by string) (Gate, error) {
	if by == "" {
		return Gate{}, fmt.Errorf("run %s: answer gate %d: say who answers (%s, %s or %s)", id, seq, ByTerminal, ByWeb, ByMCP)
	}
	text, err := jsonText(answer)
	if err != nil || text == nil {
		return Gate{}, fmt.Errorf("run %s: answer gate %d: the answer must be JSON (%v)", id, seq, err)
	}
	return s.closeGate(ctx, id, seq, GateAnswered, text, by)
}

// CancelGate closes gate seq of the run id unanswered, for reason: the run
// stopped waiting. A gate already closed gives a *ClosedError.
func (s *Store) CancelGate(ctx context.Context, id string, seq int64, reason string) (Gate, error) {
	return s.closeGate(ctx, id, seq, GateCancelled, nil, reason)
}

func (s *Store) closeGate(ctx context.Context, id string, seq int64, status string, answer any, by string) (Gate, error) {
	var g Gate
	var ev Event
	var dir string
	errClosed := errors.New("closed")
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanGate(tx.QueryRowContext(ctx, `UPDATE gates SET status = ?, answer = ?, answered_by = ?, closed_at = ?
			WHERE run_id = ? AND seq = ? AND status = ? RETURNING `+gateColumns,
			status, answer, by, timeText(now()), id, seq, GateOpen))
		if errors.Is(err, sql.ErrNoRows) {
			if g, err = gate(ctx, tx, id, seq); err != nil {
				return err
			}
			return errClosed
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT dir FROM runs WHERE id = ?`, id).Scan(&dir); err != nil {
			return err
		}
		ev, err = insertEvent(ctx, tx, id, EventGateClosed, gateEventText(g))
		return err
	})
	if errors.Is(err, errClosed) {
		return g, &ClosedError{Gate: g}
	}
	if err != nil {
		return Gate{}, fmt.Errorf("run %s: close gate %d: %w", id, seq, err)
	}
	appendLine(filepath.Join(dir, "events.jsonl"), ev)
	return g, nil
}

// Gate returns gate seq of the run id.
func (s *Store) Gate(ctx context.Context, id string, seq int64) (Gate, error) {
	g, err := gate(ctx, s.db, id, seq)
	if err != nil {
		return Gate{}, fmt.Errorf("run %s: gate %d: %w", id, seq, err)
	}
	return g, nil
}

func gate(ctx context.Context, q querier, id string, seq int64) (Gate, error) {
	g, err := scanGate(q.QueryRowContext(ctx, `SELECT `+gateColumns+` FROM gates WHERE run_id = ? AND seq = ?`, id, seq))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return g, err
}

// Gates lists the gates of the run id (all runs when id is empty), in order;
// with open, only the open ones.
func (s *Store) Gates(ctx context.Context, id string, open bool) ([]Gate, error) {
	query := `SELECT ` + gateColumns + ` FROM gates WHERE (?1 = '' OR run_id = ?1) AND (?2 = 0 OR status = 'open')
		ORDER BY run_id, seq`
	onlyOpen := 0
	if open {
		onlyOpen = 1
	}
	rows, err := s.db.QueryContext(ctx, query, id, onlyOpen)
	if err != nil {
		return nil, fmt.Errorf("list gates: %w", err)
	}
	defer rows.Close()
	var gates []Gate
	for rows.Next() {
		g, err := scanGate(rows)
		if err != nil {
			return nil, fmt.Errorf("list gates: %w", err)
		}
		gates = append(gates, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list gates: %w", err)
	}
	return gates, nil
}

// WaitGate waits until gate seq of the run id is closed, and returns it;
// the answer may come from any process, so the database is read every poll
// (GatePoll when 0). It returns ctx's error when ctx ends first.
func (s *Store) WaitGate(ctx context.Context, id string, seq int64, poll time.Duration) (Gate, error) {
	if poll <= 0 {
		poll = GatePoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		g, err := s.Gate(ctx, id, seq)
		if err != nil {
			if ctx.Err() != nil {
				return Gate{}, ctx.Err()
			}
			return Gate{}, err
		}
		if g.Status != GateOpen {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return Gate{}, ctx.Err()
		case <-t.C:
		}
	}
}

const gateColumns = `run_id, seq, kind, question, options, status, answer, answered_by, opened_at, closed_at`

func scanGate(sc scanner) (Gate, error) {
	var g Gate
	err := sc.Scan(&g.Run, &g.Seq, &g.Kind, &g.Question, (*[]byte)(&g.Options), &g.Status, (*[]byte)(&g.Answer),
		&g.AnsweredBy, timeScan{&g.Opened}, timeScan{&g.Closed})
	return g, err
}

// AnswerGate answers the run's gate seq: see Store.AnswerGate.
func (r *Run) AnswerGate(ctx context.Context, seq int64, answer any, by string) (Gate, error) {
	return r.s.AnswerGate(ctx, r.ID, seq, answer, by)
}

// CancelGate cancels the run's gate seq: see Store.CancelGate.
func (r *Run) CancelGate(ctx context.Context, seq int64, reason string) (Gate, error) {
	return r.s.CancelGate(ctx, r.ID, seq, reason)
}

// WaitGate waits for the run's gate seq to close: see Store.WaitGate.
func (r *Run) WaitGate(ctx context.Context, seq int64, poll time.Duration) (Gate, error) {
	return r.s.WaitGate(ctx, r.ID, seq, poll)
}
