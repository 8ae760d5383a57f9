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
