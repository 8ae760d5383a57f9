package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mlrc/mlrc/llm"
)

// RecordCall records c as the run's next call, setting its Seq, and appends
// it to llm-calls.jsonl. It links the call to the run's current step when
// exactly one step is open on r; with parallel workers, record through
// Step.Recorder instead. RecordCall implements llm.Recorder.
func (r *Run) RecordCall(ctx context.Context, c llm.Call) error {
	return r.recordCall(ctx, c, r.steps.only())
}

// Recorder returns an llm.Recorder that records calls on the step's run,
// linked to the step, whatever other steps are open.
func (st *Step) Recorder() llm.Recorder { return stepRecorder{st} }

type stepRecorder struct{ st *Step }

func (sr stepRecorder) RecordCall(ctx context.Context, c llm.Call) error {
	return sr.st.run.recordCall(ctx, c, sr.st)
}

func (r *Run) recordCall(ctx context.Context, c llm.Call, st *Step) error {
	req := c.Request
	if req == nil {
		req = json.RawMessage("null")
	}
	reqText, err := jsonText(req)
	if err != nil {
		return fmt.Errorf("run %s: record call: request: %w", r.ID, err)
	}
	respText, err := jsonText(c.Response)
	if err != nil {
		return fmt.Errorf("run %s: record call: response: %w", r.ID, err)
	}
	if c.Started.IsZero() {
		c.Started = now()
	}
	var stepID any
	c.Step = 0
	if st != nil {
		stepID, c.Step = st.id, st.seq
	}
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO llm_calls
			(run_id, step_id, seq, provider, model, request_hash, request, response, error,
			 input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, price_unknown,
			 started_at, latency_ms, replay_of)
			VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM llm_calls WHERE run_id = ?1),
			 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
			RETURNING seq`,
			r.ID, stepID, c.Provider, c.Model, c.RequestHash, reqText, respText, c.Error,
			c.Usage.InputTokens, c.Usage.OutputTokens, c.Usage.CacheReadTokens, c.Usage.CacheWriteTokens,
			c.Cost.USD, c.Cost.Unknown, timeText(c.Started), c.Latency.Milliseconds(), c.ReplayOf).Scan(&c.Seq)
	})
	if err != nil {
		return fmt.Errorf("run %s: record call: %w", r.ID, err)
	}
	c.Request = req
	if err := appendLine(filepath.Join(r.Dir, "llm-calls.jsonl"), c); err != nil {
		return fmt.Errorf("run %s: record call %d: %w", r.ID, c.Seq, err)
	}
	return nil
}

// Calls returns the run's calls in order, for replay. Latency is kept to the
// millisecond and times come back in UTC.
func (r *Run) Calls(ctx context.Context) ([]llm.Call, error) {
	rows, err := r.s.db.QueryContext(ctx, `SELECT c.seq, COALESCE(s.seq, 0), c.provider, c.model, c.request_hash,
			c.request, c.response, c.error,
			c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_tokens, c.cost_usd, c.price_unknown,
			c.started_at, c.latency_ms, c.replay_of
		FROM llm_calls c LEFT JOIN steps s ON s.id = c.step_id WHERE c.run_id = ? ORDER BY c.seq`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("run %s: list calls: %w", r.ID, err)
	}
	defer rows.Close()
	var calls []llm.Call
	for rows.Next() {
		var c llm.Call
		var latency int64
		if err := rows.Scan(&c.Seq, &c.Step, &c.Provider, &c.Model, &c.RequestHash,
			(*[]byte)(&c.Request), (*[]byte)(&c.Response), &c.Error,
			&c.Usage.InputTokens, &c.Usage.OutputTokens, &c.Usage.CacheReadTokens, &c.Usage.CacheWriteTokens,
			&c.Cost.USD, &c.Cost.Unknown, timeScan{&c.Started}, &latency, &c.ReplayOf); err != nil {
			return nil, fmt.Errorf("run %s: list calls: %w", r.ID, err)
		}
		c.Latency = time.Duration(latency) * time.Millisecond
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list calls: %w", r.ID, err)
	}
	return calls, nil
}
