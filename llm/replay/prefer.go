package replay

import (
	"context"
	"errors"

	"github.com/mlrc/mlrc/llm"
)

// Prefer answers from calls when one was recorded for the request, and asks
// live otherwise. A resumed run uses it so that the model is not asked again
// for a step whose answer was recorded before the process died.
func Prefer(calls []llm.Call, live llm.Provider) llm.Provider {
	m := New(calls)
	return llm.ProviderFunc(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		resp, err := m.Complete(ctx, req)
		if errors.Is(err, ErrDiverged) {
			return live.Complete(ctx, req)
		}
		return resp, err
	})
}
