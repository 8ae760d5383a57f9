package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cache is the store's key-value cache: values kept under a key until they
// expire. It implements online.Cache, so the literature sources keep their
// answers in the run store. Get it from Store.Cache.
type Cache struct{ s *Store }

// Cache returns the store's cache.
func (s *Store) Cache() Cache { return Cache{s} }

// Get returns the value under key. An expired or missing entry is a miss
// (nil, false, nil); an expired one is deleted.
func (c Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var val []byte
	var expires string
	err := c.s.db.QueryRowContext(ctx, `SELECT value, expires_at FROM cache WHERE key = ?`, key).Scan(&val, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cache get %s: %w", key, err)
	}
	// Times in the store are fixed-width UTC text, so text order is time order.
	t := now().Format(timeLayout)
	if expires > t {
		return val, true, nil
	}
	err = c.s.write(ctx, func(tx *sql.Tx) error {
		// Only the expired entry: another writer may have put a fresh one.
		_, err := tx.ExecContext(ctx, `DELETE FROM cache WHERE key = ? AND expires_at <= ?`, key, t)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("cache get %s: delete expired entry: %w", key, err)
	}
	return nil, false, nil
}

// Put stores val under key for ttl, which must be positive, replacing any
// entry, and deletes every expired entry.
func (c Cache) Put(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("cache put %s: ttl %v: want a positive duration", key, ttl)
	}
	if val == nil {
		val = []byte{} // the column is NOT NULL; an empty value is still a value
	}
	t := now()
	err := c.s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cache WHERE expires_at <= ?`, timeText(t)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cache (key, value, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
			key, val, timeText(t.Add(ttl)))
		return err
	})
	if err != nil {
		return fmt.Errorf("cache put %s: %w", key, err)
	}
	return nil
}
