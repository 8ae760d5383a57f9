package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// Call is one recorded model call: what was asked, what came back, what it
// cost and how long it took. Calls are what make a run replayable.
type Call struct {
	Seq         int64           `json:"seq"`            // order within the run, set by the store
	Step        int64           `json:"step,omitempty"` // the run step it belongs to (its seq), set by the store
	Provider    string          `json:"provider"`
	Model       string          `json:"model"`
	RequestHash string          `json:"request_hash"`
	Request     json.RawMessage `json:"request"`
	Response    json.RawMessage `json:"response,omitempty"` // nil when the call failed
	Error       string          `json:"error,omitempty"`
	Usage       Usage           `json:"usage"`
	Cost        Cost            `json:"cost"`
	Started     time.Time       `json:"started"`
	Latency     time.Duration   `json:"latency_ns"`
	// ReplayOf, when not 0, says that the call was not sent: it was answered
	// with the recorded answer of call ReplayOf of the same run (a resumed
	// run redoing a step that was cut off). Such a call has no usage or cost.
	ReplayOf int64 `json:"replay_of,omitempty"`
}

// Recorder stores calls. The run store implements it.
type Recorder interface {
	RecordCall(ctx context.Context, c Call) error
}

// RequestHash identifies a request by its content: system prompt, messages,
// tools and settings. It leaves out how the request is delivered (streaming
// or not) and which model it is for, so that a run recorded with one model
// can be replayed under another name (replay/RUN). Two requests alike in
// content hash alike; replay answers them in recorded order.
func RequestHash(req *Request) string {
	r := *req
	r.Model = ""
	b, err := json.Marshal(&r)
	if err != nil {
		// Request holds only JSON-safe types; a failure here is a bug.
		panic("llm: marshal request: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Record wraps p so that every call, failed or not, is handed to rec. A
// refusal by the budget is not a call and is not recorded. If recording fails
// the call's result is still returned, joined with the recording error only
// when the call itself succeeded, so that nothing is lost silently.
func Record(p Provider, rec Recorder, provider string) Provider {
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		start := time.Now()
		resp, err := p.Complete(ctx, req)
		var budget *BudgetError
		if errors.As(err, &budget) {
			return nil, err
		}
		c := Call{
			Provider:    provider,
			Model:       req.Model,
			RequestHash: RequestHash(req),
			Started:     start.UTC(),
			Latency:     time.Since(start),
		}
		c.Request, _ = json.Marshal(req)
		if err != nil {
			c.Error = err.Error()
		} else {
			c.Response, _ = json.Marshal(resp)
			c.Usage = resp.Usage
			c.Cost = resp.Cost
		}
		if recErr := rec.RecordCall(context.WithoutCancel(ctx), c); recErr != nil && err == nil {
			return resp, errors.Join(errors.New("llm: record call"), recErr)
		}
		return resp, err
	})
}
