package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit/online"
)

var _ online.Cache = Cache{}

func TestCachePutGet(t *testing.T) {
	ctx := context.Background()
	c := openTest(t).Cache()
	if _, ok, err := c.Get(ctx, "missing"); ok || err != nil {
		t.Fatalf("Get(missing) = ok %v, err %v; want a miss", ok, err)
	}
	if err := c.Put(ctx, "k", []byte("one"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "k", []byte("two"), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := c.Get(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("Get(k) = ok %v, err %v; want a hit", ok, err)
	}
	if string(got) != "two" {
		t.Errorf("Get(k) = %q, want the value put last, %q", got, "two")
	}
	if err := c.Put(ctx, "empty", nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.Get(ctx, "empty"); err != nil || !ok || len(got) != 0 {
		t.Errorf("Get(empty) = %q, ok %v, err %v; want an empty hit", got, ok, err)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := c.Put(ctx, "k", []byte("x"), ttl); err == nil {
			t.Errorf("Put with ttl %v: got nil error, want one", ttl)
		}
	}
}

func cacheRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM cache").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func expire(t *testing.T, s *Store, key string) {
	t.Helper()
	past := timeText(now().Add(-time.Minute))
	if _, err := s.db.Exec("UPDATE cache SET expires_at = ? WHERE key = ?", past, key); err != nil {
		t.Fatal(err)
	}
}

func TestCacheExpiry(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := s.Cache()
	for _, key := range []string{"a", "b", "c"} {
		if err := c.Put(ctx, key, []byte(key), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	expire(t, s, "a")
	if _, ok, err := c.Get(ctx, "a"); ok || err != nil {
		t.Fatalf("Get(expired) = ok %v, err %v; want a miss", ok, err)
	}
	if got, want := cacheRows(t, s), 2; got != want {
		t.Errorf("after reading an expired entry: %d rows, want %d (it is deleted)", got, want)
	}
	if _, ok, _ := c.Get(ctx, "b"); !ok {
		t.Error("Get(b): a miss, want the live entry")
	}

	// A write sweeps every expired entry, not just its own key.
	expire(t, s, "b")
	if err := c.Put(ctx, "d", []byte("d"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := cacheRows(t, s), 2; got != want { // c and d
		t.Errorf("after a put: %d rows, want %d (b swept)", got, want)
	}

	// A short ttl really expires.
	if err := c.Put(ctx, "short", []byte("x"), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, ok, err := c.Get(ctx, "short"); ok || err != nil {
		t.Errorf("Get after the ttl = ok %v, err %v; want a miss", ok, err)
	}
}

// A database left at schema version 1 by an older mlrc gains the cache on
// open and keeps its runs.
func TestCacheMigrationFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mlrc.db")
	ms, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := migrate(ctx, db, ms[:1]); err != nil || n != 1 {
		t.Fatalf("migrate to version 1: applied %d, %v", n, err)
	}
	if tableExists(t, db, "cache") {
		t.Fatal("cache exists at version 1")
	}
	created := timeText(now())
	if _, err := db.Exec(`INSERT INTO runs (id, kind, status, dir, created_at, updated_at)
		VALUES ('old', 'llm', 'done', ?, ?, ?)`, t.TempDir(), created, created); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := userVersion(t, s.db), 2; got < want {
		t.Fatalf("user_version = %d, want at least %d", got, want)
	}
	if !tableExists(t, s.db, "cache") {
		t.Fatal("cache missing after upgrade")
	}
	if _, err := s.Run(ctx, "old"); err != nil {
		t.Errorf("run created at version 1: %v", err)
	}
	c := s.Cache()
	if err := c.Put(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := c.Get(ctx, "k"); err != nil || !ok || string(got) != "v" {
		t.Fatalf("Get after upgrade = %q, ok %v, err %v", got, ok, err)
	}
}
