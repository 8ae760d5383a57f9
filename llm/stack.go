package llm

import "context"

// Stack says how to dress a bare adapter for use in a run.
type Stack struct {
	Provider string // "openai", …: for prices, records and errors
	Model    string // filled into requests that leave Model empty
	Retry    RetryPolicy
	Meter    *Meter   // nil: no pricing or budget
	Recorder Recorder // nil: calls are not recorded
}

// Wrap returns backend behind the standard middleware, outermost first:
// the model name is filled in, the call is recorded, the budget is checked
// and the cost metered, and failures are retried.
func (s Stack) Wrap(backend Provider) Provider {
	p := Retry(backend, s.Retry)
	if s.Meter != nil {
		p = s.Meter.Wrap(p, s.Provider)
	}
	if s.Recorder != nil {
		p = Record(p, s.Recorder, s.Provider)
	}
	inner := p
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		if req.Model == "" {
			r := *req
			r.Model = s.Model
			req = &r
		}
		return inner.Complete(ctx, req)
	})
}
