package lit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // driver "sqlite", FTS5 built in
)

// Extract reads a PDF and returns its title and abstract. The paper package
// provides one; pass it to OpenIndex with WithPDF.
type Extract func(ctx context.Context, path string) (title, abstract string, err error)

// Option configures an Index.
type Option func(*Index)

// WithPDF lets AddFile index PDFs, reading them with extract.
func WithPDF(extract Extract) Option {
	return func(ix *Index) { ix.pdf = extract }
}

// Index is the local literature index: works in SQLite, searched with FTS5
// BM25 and, when vectors are stored, by cosine similarity. It is safe for
// concurrent use.
type Index struct {
	db   *sql.DB
	path string
	pdf  Extract
	// Caches, emptied by every write through this Index.
	vecs  vectorCache
	stats termStats
}

// schemaVersion is stored in PRAGMA user_version.
const schemaVersion = 1

// schema creates the tables. works.doc is the stable integer key that the
// FTS5 table and the embeddings refer to; works.id is the work's own id.
//
// works_fts is an external-content FTS5 table: it stores only the inverted
// index, the text lives once, in works. The triggers of ftsTriggers keep it
// in step (a large load drops them and rebuilds the index instead, see
// write); an update re-indexes a work only when its title or abstract
// changed, and then drops its now stale vectors.
const schema = `
CREATE TABLE IF NOT EXISTS works (
	doc        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	source     TEXT NOT NULL,
	title      TEXT NOT NULL,
	abstract   TEXT NOT NULL,
	year       INTEGER NOT NULL DEFAULT 0,
	authors    TEXT NOT NULL DEFAULT '[]', -- JSON list
	categories TEXT NOT NULL DEFAULT '[]', -- JSON list
	url        TEXT NOT NULL DEFAULT '',
	provenance TEXT NOT NULL DEFAULT '' -- where the row came from
);
CREATE VIRTUAL TABLE IF NOT EXISTS works_fts USING fts5(
	title, abstract,
	content='works', content_rowid='doc',
	tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS embeddings (
	model TEXT NOT NULL,
	doc   INTEGER NOT NULL,
	vec   BLOB NOT NULL, -- little-endian float32
	PRIMARY KEY (model, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS embeddings_doc ON embeddings(doc);
CREATE TRIGGER IF NOT EXISTS works_vec_ad AFTER DELETE ON works BEGIN
	DELETE FROM embeddings WHERE doc = old.doc;
END;
CREATE TRIGGER IF NOT EXISTS works_vec_au AFTER UPDATE OF title, abstract ON works
WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract BEGIN
	DELETE FROM embeddings WHERE doc = old.doc;
END;
` + ftsTriggers

// ftsTriggers keep works_fts in step with works.
const ftsTriggers = `
CREATE TRIGGER IF NOT EXISTS works_fts_ai AFTER INSERT ON works BEGIN
	INSERT INTO works_fts(rowid, title, abstract) VALUES (new.doc, new.title, new.abstract);
END;
CREATE TRIGGER IF NOT EXISTS works_fts_ad AFTER DELETE ON works BEGIN
	INSERT INTO works_fts(works_fts, rowid, title, abstract) VALUES ('delete', old.doc, old.title, old.abstract);
END;
CREATE TRIGGER IF NOT EXISTS works_fts_au AFTER UPDATE OF title, abstract ON works
WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract BEGIN
	INSERT INTO works_fts(works_fts, rowid, title, abstract) VALUES ('delete', old.doc, old.title, old.abstract);
	INSERT INTO works_fts(rowid, title, abstract) VALUES (new.doc, new.title, new.abstract);
END;
`

// dropFTSTriggers undoes ftsTriggers.
const dropFTSTriggers = `
DROP TRIGGER works_fts_ai;
DROP TRIGGER works_fts_ad;
DROP TRIGGER works_fts_au;
`

// OpenIndex opens the index at path, creating the file and its schema when
// they do not exist.
func OpenIndex(ctx context.Context, path string, opts ...Option) (*Index, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open literature index %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("open literature index %s: %w", abs, err)
	}
	db, err := sql.Open("sqlite", abs+"?_pragma=busy_timeout(10000)"+
		"&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(NORMAL)"+
		"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open literature index %s: %w", abs, err)
	}
	ix := &Index{db: db, path: abs}
	for _, o := range opts {
		o(ix)
	}
	if err := ix.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open literature index %s: %w", abs, err)
	}
	return ix, nil
}

// init creates the schema, or checks that an existing one is ours.
func (ix *Index) init(ctx context.Context) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch v {
	case schemaVersion:
		return nil
	case 0:
	default:
		return fmt.Errorf("schema version %d, this mlrc knows %d: rebuild the index with a fresh file", v, schemaVersion)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return errors.New("not a literature index (the database holds other tables)")
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return err
	}
	// The rank used by ORDER BY rank: title matches weigh twice as much as
	// abstract matches.
	if _, err := tx.ExecContext(ctx, "INSERT INTO works_fts(works_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0)')"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (ix *Index) Close() error { return ix.db.Close() }

// Path returns the absolute path of the index file.
func (ix *Index) Path() string { return ix.path }

// Count returns the number of works in the index.
func (ix *Index) Count(ctx context.Context) (int, error) {
	var n int
	err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM works").Scan(&n)
	return n, err
}

// workColumns are the columns scanWork reads, in its order.
const workColumns = "w.id, w.source, w.title, w.abstract, w.year, w.authors, w.categories, w.url"

type scanner interface{ Scan(dest ...any) error }

func scanWork(s scanner, extra ...any) (Work, error) {
	var w Work
	var authors, cats string
	dest := append([]any{&w.ID, &w.Source, &w.Title, &w.Abstract, &w.Year, &authors, &cats, &w.URL}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Work{}, err
	}
	if err := json.Unmarshal([]byte(authors), &w.Authors); err != nil {
		return Work{}, fmt.Errorf("work %s: authors: %w", w.ID, err)
	}
	if err := json.Unmarshal([]byte(cats), &w.Categories); err != nil {
		return Work{}, fmt.Errorf("work %s: categories: %w", w.ID, err)
	}
	return w, nil
}
