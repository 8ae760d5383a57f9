package online

import (
	"context"
	"errors"
	"strings"

	"github.com/mlrc/mlrc/lit"
)

// Fallback returns a Source that asks sources in order and returns the hits
// of the first that finds any; one that fails or finds nothing passes the
// turn to the next. If every source fails the error is a *SourcesError
// listing each failure; if some answered but none found anything, the
// result is empty and the error nil.
func Fallback(sources ...lit.Source) lit.Source { return fallback(sources) }

type fallback []lit.Source

func (f fallback) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	if len(f) == 0 {
		return nil, errNoSources
	}
	var errs []error
	answered := false
	for _, src := range f {
		hits, err := src.Search(ctx, query, k)
		switch {
		case err != nil:
			errs = append(errs, err)
		case len(hits) > 0:
			return hits, nil
		default:
			answered = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil && len(errs) < len(f) {
		errs = append(errs, err) // the rest were never asked
	}
	if answered || len(errs) == 0 {
		return nil, nil
	}
	return nil, &SourcesError{Errs: errs}
}

// SourcesError says that no literature source answered; Errs holds each
// one's failure, in order.
type SourcesError struct {
	Errs []error
}

func (e *SourcesError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "no literature source answered: " + strings.Join(msgs, "; ")
}

func (e *SourcesError) Unwrap() []error { return e.Errs }

// errNoSources is what Merge says when it has none to ask.
var errNoSources = errors.New("no literature sources configured")
