package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mlrc/mlrc/llm"
)

// Summary is a run with its phases, steps and artifacts and the totals of
// its LLM calls.
type Summary struct {
	RunInfo
	Phases    []PhaseInfo    `json:"phases"`
	Steps     []StepInfo     `json:"steps"`
	Artifacts []ArtifactInfo `json:"artifacts"`

	Calls       int64 `json:"calls"`        // LLM calls sent to a model
	FailedCalls int64 `json:"failed_calls"` // of which failed
	// Replayed counts calls answered from the record on a resume, not sent.
	Replayed int64     `json:"replayed_calls"`
	Usage    llm.Usage `json:"usage"`
	// Cost sums the calls' costs; Cost.Unknown counts calls at unknown price,
	// taken as 0 in Cost.USD.
	Cost llm.Cost `json:"cost"`
}

// Summary returns the run ref (an id or unique prefix), read from one
// snapshot of the database.
func (s *Store) Summary(ctx context.Context, ref string) (*Summary, error) {
	id, err := s.lookup(ctx, ref)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("run %s: summary: %w", id, err)
	}
	defer tx.Rollback()

	sum := &Summary{}
	if sum.RunInfo, err = runInfo(ctx, tx, id); err != nil {
		return nil, err
	}
	if sum.Phases, err = listPhases(ctx, tx, id); err != nil {
		return nil, err
	}
	if sum.Steps, err = listSteps(ctx, tx, id); err != nil {
		return nil, err
	}
	if sum.Artifacts, err = listArtifacts(ctx, tx, id); err != nil {
		return nil, err
	}
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(replay_of = 0), 0), COALESCE(SUM(error != ''), 0),
			COALESCE(SUM(replay_of != 0), 0),
			COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
			COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),
			TOTAL(cost_usd), COALESCE(SUM(price_unknown), 0)
		FROM llm_calls WHERE run_id = ?`, id).Scan(&sum.Calls, &sum.FailedCalls, &sum.Replayed,
		&sum.Usage.InputTokens, &sum.Usage.OutputTokens, &sum.Usage.CacheReadTokens, &sum.Usage.CacheWriteTokens,
		&sum.Cost.USD, &sum.Cost.Unknown)
	if err != nil {
		return nil, fmt.Errorf("run %s: summary: %w", id, err)
	}
	return sum, nil
}

// PhaseUsage is what a run's LLM calls in one phase cost.
type PhaseUsage struct {
	Phase string    `json:"phase"` // "" for calls outside any phase's steps
	Calls int64     `json:"calls"`
	Usage llm.Usage `json:"usage"`
	Cost  llm.Cost  `json:"cost"`
}

// UsageByPhase sums the run id's LLM calls by the phase of the step each
// was made in, in the order the phases began.
func (s *Store) UsageByPhase(ctx context.Context, id string) ([]PhaseUsage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT COALESCE(st.phase, ''), COUNT(*),
			COALESCE(SUM(c.input_tokens), 0), COALESCE(SUM(c.output_tokens), 0),
			COALESCE(SUM(c.cache_read_tokens), 0), COALESCE(SUM(c.cache_write_tokens), 0),
			TOTAL(c.cost_usd), COALESCE(SUM(c.price_unknown), 0)
		FROM llm_calls c LEFT JOIN steps st ON st.id = c.step_id
		WHERE c.run_id = ? AND c.replay_of = 0
		GROUP BY 1 ORDER BY MIN(c.seq)`, id)
	if err != nil {
		return nil, fmt.Errorf("run %s: usage by phase: %w", id, err)
	}
	defer rows.Close()
	var out []PhaseUsage
	for rows.Next() {
		var u PhaseUsage
		if err := rows.Scan(&u.Phase, &u.Calls, &u.Usage.InputTokens, &u.Usage.OutputTokens,
			&u.Usage.CacheReadTokens, &u.Usage.CacheWriteTokens, &u.Cost.USD, &u.Cost.Unknown); err != nil {
			return nil, fmt.Errorf("run %s: usage by phase: %w", id, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
