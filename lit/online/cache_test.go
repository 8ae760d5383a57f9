package online

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
)

func TestCacheKey(t *testing.T) {
	a := CacheKey("arxiv", "  Low-Rank\tADAPTATION ", 10)
	if b := CacheKey("arxiv", "low-rank adaptation", 10); a != b {
		t.Errorf("keys differ for the same query: %q, %q", a, b)
	}
	for _, other := range []string{
		CacheKey("openalex", "low-rank adaptation", 10),
		CacheKey("arxiv", "low-rank adaptation", 5),
		CacheKey("arxiv", "low rank adaptation", 10),
	} {
		if other == a {
			t.Errorf("key %q shared by another service, k or query", a)
		}
	}
}

func TestMemoryCache(t *testing.T) {
	ctx := context.Background()
	var c MemoryCache
	if _, ok, _ := c.Get(ctx, "k"); ok {
		t.Fatal("hit in an empty cache")
	}
	val := []byte("v")
	c.Put(ctx, "k", val, time.Hour)
	val[0] = 'x' // the cache keeps its own copy
	if got, ok, _ := c.Get(ctx, "k"); !ok || string(got) != "v" {
		t.Errorf("Get = %q, %v; want v", got, ok)
	}
	c.Put(ctx, "short", []byte("v"), time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if _, ok, _ := c.Get(ctx, "short"); ok {
		t.Error("hit after the ttl, want a miss")
	}
}

func TestCached(t *testing.T) {
	ctx := context.Background()
	lora := lit.Work{ID: "2106.09685", Source: "svc", Title: "LoRA"}
	tests := []struct {
		name      string
		cache     Cache
		answers   [][]lit.Hit // what each fetch returns
		errs      []error
		wantCalls int // fetches over two searches
	}{
		{"hit", &MemoryCache{}, [][]lit.Hit{Ranked([]lit.Work{lora}, 1)}, nil, 1},
		{"no cache", nil, [][]lit.Hit{Ranked([]lit.Work{lora}, 1), Ranked([]lit.Work{lora}, 1)}, nil, 2},
		{"empty answer not kept", &MemoryCache{}, [][]lit.Hit{nil, Ranked([]lit.Work{lora}, 1)}, nil, 2},
		{"failure not kept", &MemoryCache{}, [][]lit.Hit{nil, Ranked([]lit.Work{lora}, 1)}, []error{errors.New("down"), nil}, 2},
		{"broken cache ignored", fakeCache{
			get: func(context.Context, string) ([]byte, bool, error) { return nil, false, errors.New("disk gone") },
			put: func(context.Context, string, []byte, time.Duration) error { return errors.New("disk gone") },
		}, [][]lit.Hit{Ranked([]lit.Work{lora}, 1), Ranked([]lit.Work{lora}, 1)}, nil, 2},
		{"unreadable entry refetched", fakeCache{
			get: func(context.Context, string) ([]byte, bool, error) { return []byte("{not json"), true, nil },
			put: func(context.Context, string, []byte, time.Duration) error { return nil },
		}, [][]lit.Hit{Ranked([]lit.Work{lora}, 1), Ranked([]lit.Work{lora}, 1)}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Service{Name: "svc", Cache: tt.cache}
			calls := 0
			fetch := func(context.Context) ([]lit.Hit, error) {
				i := calls
				calls++
				var err error
				if i < len(tt.errs) {
					err = tt.errs[i]
				}
				return tt.answers[i], err
			}
			s.Cached(ctx, "lora", 3, fetch)
			hits, err := s.Cached(ctx, "lora", 3, fetch)
			if err != nil {
				t.Fatal(err)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d fetches, want %d", calls, tt.wantCalls)
			}
			if len(hits) != 1 || hits[0].Work.Title != "LoRA" || hits[0].Rank != 1 {
				t.Errorf("second search = %+v, want the LoRA hit", hits)
			}
		})
	}
}

// Entries are kept for CacheTTL, DefaultCacheTTL when it is not set.
func TestCachedTTL(t *testing.T) {
	for _, tt := range []struct {
		ttl, want time.Duration
	}{{0, DefaultCacheTTL}, {time.Hour, time.Hour}} {
		var got time.Duration
		s := &Service{Name: "svc", CacheTTL: tt.ttl, Cache: fakeCache{
			get: func(context.Context, string) ([]byte, bool, error) { return nil, false, nil },
			put: func(_ context.Context, _ string, _ []byte, ttl time.Duration) error { got = ttl; return nil },
		}}
		s.Cached(context.Background(), "q", 1, func(context.Context) ([]lit.Hit, error) {
			return Ranked([]lit.Work{{Title: "t"}}, 1), nil
		})
		if got != tt.want {
			t.Errorf("CacheTTL %v: kept for %v, want %v", tt.ttl, got, tt.want)
		}
	}
}
