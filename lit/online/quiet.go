package online

import (
	"context"
	"sync"

	"github.com/mlrc/mlrc/lit"
)

// Quiet wraps a source for a caller that can do without it: a search that
// finds the source unreachable (see Unreachable) answers no hits and no
// error, and the first such search calls notice, once. Other errors pass
// through. An offline machine thus gets one line, not a warning per query.
func Quiet(src lit.Source, notice func(err error)) lit.Source {
	return &quiet{src: src, notice: notice}
}

type quiet struct {
	src    lit.Source
	notice func(error)
	once   sync.Once
}

func (q *quiet) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	hits, err := q.src.Search(ctx, query, k)
	if err != nil && ctx.Err() == nil && Unreachable(err) {
		q.once.Do(func() {
			if q.notice != nil {
				q.notice(err)
			}
		})
		return nil, nil
	}
	return hits, err
}
