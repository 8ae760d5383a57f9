package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// The schema is a sequence of migrations, migrations/0001_init.sql,
// 0002_….sql and so on, applied in order. PRAGMA user_version holds the
// number of the last one applied. A migration that needs foreign keys off
// (SQLite's twelve-step table rebuild) must use PRAGMA defer_foreign_keys,
// since foreign_keys cannot change inside a transaction.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return loadMigrations(sub)
}

// loadMigrations reads the *.sql files of fsys, which must be numbered 1, 2,
// 3, … without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", name, i+1)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations db has not seen, each in its own
// transaction, and returns how many it applied. A database whose version is
// higher than the last migration known is an error: it was written by a
// newer mlrc.
func migrate(ctx context.Context, db *sql.DB, ms []migration) (applied int, err error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if err := checkVersion(v, len(ms)); err != nil {
		return 0, err
	}
	for _, m := range ms[v:] {
		ok, err := applyMigration(ctx, db, m, len(ms))
		if err != nil {
			return applied, err
		}
		if ok {
			applied++
		}
	}
	return applied, nil
}

func checkVersion(v, known int) error {
	if v > known {
		return fmt.Errorf("%w: its schema version is %d and this mlrc knows versions up to %d; upgrade mlrc to open it",
			ErrSchemaTooNew, v, known)
	}
	return nil
}

// applyMigration applies m unless another process applied it first; the
// version is read again inside the write transaction to tell.
func applyMigration(ctx context.Context, db *sql.DB, m migration, known int) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migration %s: read schema version: %w", m.name, err)
	}
	if err := checkVersion(v, known); err != nil {
		return false, err
	}
	if v >= m.version {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	// PRAGMA takes no parameters; m.version is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return false, fmt.Errorf("migration %s: set schema version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return true, nil
}
