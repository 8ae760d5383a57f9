package online

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/lit"
)

// Cache keeps answers for a while. *store.Cache (the run store's cache
// table) implements it, and so does MemoryCache.
type Cache interface {
	// Get returns the value stored under key; an expired or missing entry is
	// a miss (false, nil).
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Put stores val under key for ttl, replacing any entry.
	Put(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

// DefaultCacheTTL is how long search results are kept unless a client says
// otherwise.
const DefaultCacheTTL = 7 * 24 * time.Hour

// CacheKey is the key under which a service's results for query and k are
// cached: the query is case-folded and its spaces collapsed, so that trivial
// variants share an entry.
func CacheKey(service, query string, k int) string {
	return "lit/" + service + "/" + strconv.Itoa(k) + "/" + normalizeQuery(query)
}

func normalizeQuery(q string) string {
	return strings.Join(strings.Fields(strings.ToLower(q)), " ")
}

// Cached returns the hits cached for query and k, or else those fetch
// returns, caching them when there is at least one (an empty answer may be
// a passing glitch, and is cheap to ask again). A failing cache is logged
// and otherwise ignored: it never fails a search.
func (s *Service) Cached(ctx context.Context, query string, k int, fetch func(context.Context) ([]lit.Hit, error)) ([]lit.Hit, error) {
	if s.Cache == nil {
		return fetch(ctx)
	}
	key := CacheKey(s.Name, query, k)
	val, ok, err := s.Cache.Get(ctx, key)
	if err != nil {
		s.logger().Warn("literature cache: read failed", "key", key, "err", err)
	}
	if ok {
		var hits []lit.Hit
		err := json.Unmarshal(val, &hits)
		if err == nil {
			return hits, nil
		}
		s.logger().Warn("literature cache: unreadable entry, fetching again", "key", key, "err", err)
	}
	hits, err := fetch(ctx)
	if err != nil || len(hits) == 0 {
		return hits, err
	}
	val, err = json.Marshal(hits)
	if err == nil {
		ttl := s.CacheTTL
		if ttl <= 0 {
			ttl = DefaultCacheTTL
		}
		err = s.Cache.Put(ctx, key, val, ttl)
	}
	if err != nil {
		s.logger().Warn("literature cache: write failed", "key", key, "err", err)
	}
	return hits, nil
}

// MemoryCache is a Cache in memory, for tests and for callers without a run
// store. The zero value is ready; it is safe for concurrent use.
type MemoryCache struct {
	mu      sync.Mutex
	entries map[string]memoryEntry
}

type memoryEntry struct {
	val     []byte
	expires time.Time
}

// Get implements Cache.
func (c *MemoryCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false, nil
	}
	if !time.Now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false, nil
	}
	return append([]byte(nil), e.val...), true, nil
}

// Put implements Cache.
func (c *MemoryCache) Put(_ context.Context, key string, val []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]memoryEntry)
	}
	c.entries[key] = memoryEntry{val: append([]byte(nil), val...), expires: time.Now().Add(ttl)}
	return nil
}
