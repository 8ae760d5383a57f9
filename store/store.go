// Package store is mlrc's run store: one SQLite database recording every run,
// its phases and steps, each LLM call, its events and its artifacts, next to
// one directory per run for the run's files and human-readable copies of the
// record:
//
//	<runs dir>/<run id>/run.json         id, kind, model, status, config; rewritten on status changes
//	<runs dir>/<run id>/llm-calls.jsonl  one line per LLM call
//	<runs dir>/<run id>/events.jsonl     one line per event
//	<runs dir>/<run id>/.lock            flocked by the process working on the run; its pid
//
// The database is the source of truth. A line is appended to a .jsonl file
// after its record commits, so a crash can leave the file one record behind
// the database, never ahead; under concurrent writers the lines may be out of
// order, and their seq field is authoritative. run.json is replaced whole
// (temporary file and rename), so it is always one complete version.
//
// # Secrets
//
// The store keeps exactly what it is given: requests, responses, run configs
// and event data go verbatim into the database and into the files of the run
// directory, and nothing is scrubbed. Callers must keep secrets out of them:
// API keys belong in a provider's HTTP client, never in an llm.Request, a
// run's Config or an event.
//
// # Durability and concurrency
//
// The database runs in WAL mode with synchronous=NORMAL. Every write that
// must survive a crash (a step begun or ended, a call recorded, an event) is
// its own transaction, and a transaction that has committed survives the
// process being killed at any point. synchronous=NORMAL does not fsync on
// every commit, so a power loss or OS crash may lose the last few commits
// (the database stays consistent); FULL would close that gap at the cost of
// an fsync per write, a guarantee the .jsonl files beside the database do not
// have either.
//
// One process at a time works on a run: see Run.Lock. A Store and the Runs
// and Steps it hands out are safe for concurrent use.
// Write transactions start with BEGIN IMMEDIATE and wait up to five seconds
// for another writer, in this process or another, to finish. Writes obey
// their context: to record the end of a step or run after its context was
// cancelled, pass context.WithoutCancel(ctx).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Errors a caller may branch on; they are wrapped with the name of what was
// looked for.
var (
	ErrNotFound  = errors.New("not found")
	ErrAmbiguous = errors.New("ambiguous")
	// ErrSchemaTooNew says the database was written by a newer mlrc.
	ErrSchemaTooNew = errors.New("database is from a newer mlrc")
)

// Statuses of runs, phases and steps. A step ends done, failed or stopped; a
// run or phase may also be set back to running when it is resumed.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusStopped = "stopped"
)

// terminal reports whether status ends a run, phase or step.
func terminal(status string) bool {
	return status == StatusDone || status == StatusFailed || status == StatusStopped
}

func checkEndStatus(status string) error {
	if !terminal(status) {
		return fmt.Errorf("status %q: want %s, %s or %s", status, StatusDone, StatusFailed, StatusStopped)
	}
	return nil
}

// Store is an open run store.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the store at path, creating the file and its parent directories
// if needed, and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if strings.ContainsRune(abs, '?') {
		return nil, fmt.Errorf("open store %s: the path must not contain '?'", abs)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	migrations, err := embeddedMigrations()
	if err == nil {
		_, err = migrate(ctx, db, migrations)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	return &Store{db: db, path: abs}, nil
}

// dsn returns the data source name for the database file at path. The
// pragmas travel in the DSN so that every pooled connection gets them; the
// driver applies busy_timeout first. _txlock=immediate makes every
// transaction take the write lock when it begins, so that two writers queue
// on the busy timeout instead of one failing when it upgrades a read.
func dsn(path string) string {
	return path + "?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// write runs fn in one write transaction and commits it.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// querier is what reads need; *sql.DB and *sql.Tx have it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that the
// database's text order is time order; time.RFC3339Nano parses it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// now is the store's clock, in UTC.
func now() time.Time { return time.Now().UTC() }

// timeText formats t for the database; the zero time is NULL.
func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// timeScan scans a time written by timeText into *t; NULL gives the zero time.
type timeScan struct{ t *time.Time }

func (d timeScan) Scan(v any) error {
	var s string
	switch v := v.(type) {
	case nil:
		*d.t = time.Time{}
		return nil
	case time.Time:
		*d.t = v.UTC()
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*d.t = t.UTC()
	return nil
}
