package replay

import (
	"context"
	"errors"
	"time"

	"github.com/mlrc/mlrc/llm"
)

// Reuse holds answers a resumed run already paid for: the recorded calls of
// steps that were cut off. A request that has such an answer gets it, once,
// instead of going to the model.
//
// A reused answer is recorded again, against the step that used it, as a
// call with ReplayOf set and no usage or cost. If that step is cut off in
// turn, the next resume finds the answer there, so that however many times
// in a row a run is killed inside one step, no call is sent twice.
type Reuse struct{ m *Model }

// NewReuse returns answers to reuse, from calls, each once, in order per
// request hash. Calls that failed are left out.
func NewReuse(calls []llm.Call) *Reuse {
	var ok []llm.Call
	for _, c := range calls {
		if c.Response != nil {
			ok = append(ok, c)
		}
	}
	return &Reuse{m: New(ok)}
}

// Unused says how many answers have not been reused.
func (r *Reuse) Unused() int { return r.m.Unused() }

// Wrap returns live answering first from r: a request with an answer left
// gets it, recorded into rec (nil: not recorded); any other goes to live.
// One Reuse wrapped for several recorders (parallel steps) hands each answer
// out once in all.
func (r *Reuse) Wrap(live llm.Provider, rec llm.Recorder) llm.Provider {
	return llm.ProviderFunc(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		start := time.Now()
		c, resp, err := r.m.answer(ctx, req)
		if errors.Is(err, ErrDiverged) {
			return live.Complete(ctx, req)
		}
		if err != nil || rec == nil {
			return resp, err
		}
		again := llm.Call{
			Provider: c.Provider, Model: c.Model, RequestHash: c.RequestHash,
			Request: c.Request, Response: c.Response,
			Started: start.UTC(), Latency: time.Since(start), ReplayOf: c.Seq,
		}
		if err := rec.RecordCall(context.WithoutCancel(ctx), again); err != nil {
			return resp, errors.Join(errors.New("replay: record the reused answer"), err)
		}
		return resp, nil
	})
}

// Prefer answers from calls when one was recorded for the request, and asks
// live otherwise, recording nothing itself. Reuse.Wrap is Prefer that also
// records what it reuses.
func Prefer(calls []llm.Call, live llm.Provider) llm.Provider {
	return NewReuse(calls).Wrap(live, nil)
}
