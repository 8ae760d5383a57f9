package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "dir", "mlrc.db") // parents are created
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := userVersion(t, s.db), len(ms); got != want || want == 0 {
		t.Fatalf("user_version = %d, want %d (> 0)", got, want)
	}
	if _, err := s.CreateRun(ctx, NewRun{ID: "keep", Kind: "llm", RunsDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if n, err := migrate(ctx, s.db, ms); err != nil || n != 0 {
		t.Fatalf("migrate on a migrated db: applied %d, %v; want 0, nil", n, err)
	}
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if got, want := userVersion(t, s.db), len(ms); got != want {
		t.Fatalf("after reopen user_version = %d, want %d", got, want)
	}
	if _, err := s.Run(ctx, "keep"); err != nil {
		t.Fatalf("run created before reopen: %v", err)
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	good := fstest.MapFS{
		"0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1);")},
	}
	broken := fstest.MapFS{
		"0001_a.sql": good["0001_a.sql"],
		// The first statement succeeds; the second fails, so the whole
		// migration must roll back.
		"0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); INSERT INTO nosuch VALUES (1);")},
	}
	tests := []struct {
		name        string
		fsys        fstest.MapFS
		wantApplied int
		wantVersion int
		wantErr     string
		wantTables  []string
		absent      []string
	}{
		{name: "all", fsys: good, wantApplied: 2, wantVersion: 2, wantTables: []string{"a", "b"}},
		{name: "failed migration rolls back", fsys: broken, wantApplied: 1, wantVersion: 1,
			wantErr: "0002_b.sql", wantTables: []string{"a"}, absent: []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db")))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ms, err := loadMigrations(tt.fsys)
			if err != nil {
				t.Fatal(err)
			}
			n, err := migrate(ctx, db, ms)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("migrate: err = %v, want one naming %q", err, tt.wantErr)
			}
			if n != tt.wantApplied {
				t.Errorf("applied %d, want %d", n, tt.wantApplied)
			}
			if got := userVersion(t, db); got != tt.wantVersion {
				t.Errorf("user_version = %d, want %d", got, tt.wantVersion)
			}
			for _, name := range tt.wantTables {
				if !tableExists(t, db, name) {
					t.Errorf("table %s missing", name)
				}
			}
			for _, name := range tt.absent {
				if tableExists(t, db, name) {
					t.Errorf("table %s exists, want rolled back", name)
				}
			}
			if n, err := migrate(ctx, db, ms[:tt.wantVersion]); err != nil || n != 0 {
				t.Errorf("second migrate: applied %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
	}{
		{"gap", fstest.MapFS{"0001_a.sql": {}, "0003_c.sql": {}}},
		{"no number", fstest.MapFS{"init.sql": {}}},
		{"not from one", fstest.MapFS{"0002_b.sql": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadMigrations(tt.fsys); err == nil {
				t.Fatal("loadMigrations: got nil error, want one")
			}
		})
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mlrc.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: err = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"999", "upgrade mlrc", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestPragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	// Hold several connections at once so the pool must open new ones.
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		var journal string
		var fk, timeout, sync int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || fk != 1 || timeout != 5000 || sync != 1 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d; want wal 1 5000 1 (NORMAL)",
				i, journal, fk, timeout, sync)
		}
	}
}
