package online

import (
	"context"
	"time"

	"github.com/mlrc/mlrc/lit"
)

// sourceFunc is a lit.Source made of a function.
type sourceFunc func(ctx context.Context, query string, k int) ([]lit.Hit, error)

func (f sourceFunc) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	return f(ctx, query, k)
}

// answer is a source that returns works as hits, or err.
func answer(err error, works ...lit.Work) lit.Source {
	return sourceFunc(func(context.Context, string, int) ([]lit.Hit, error) {
		if err != nil {
			return nil, err
		}
		return Ranked(works, len(works)), nil
	})
}

// fakeCache is a Cache made of functions.
type fakeCache struct {
	get func(ctx context.Context, key string) ([]byte, bool, error)
	put func(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

func (c fakeCache) Get(ctx context.Context, key string) ([]byte, bool, error) { return c.get(ctx, key) }
func (c fakeCache) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return c.put(ctx, key, val, ttl)
}
