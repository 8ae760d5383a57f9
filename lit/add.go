package lit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxLine is the longest JSONL line read (an abstract is a few KB).
const maxLine = 16 << 20

// batchSize is how many parsed works travel from the parser to the writer
// at a time.
const batchSize = 256

// bulkThreshold is the number of works from which a load rebuilds the
// full-text index at its end rather than updating it work by work.
const bulkThreshold = 5000

// AddJSONL adds the works of a JSONL stream, one JSON object a line:
// {"id", "title", "abstract", "year", "authors", "categories", "url",
// "source"}. Only id and a title or abstract are required. A work's Source
// is its "source" field when that is a source's name ("semanticscholar"),
// else the source argument ("index" when empty); a "source" that is a
// locator, as in the shared corpus ("github:owner/repo@commit:path"), is
// kept as the work's provenance in the index. Gzip is recognised by its
// magic bytes. Re-adding an id replaces the work.
//
// The stream is added in one transaction: a line that is not a valid work
// is an error naming the line, and then nothing is added.
func (ix *Index) AddJSONL(ctx context.Context, r io.Reader, source string) (int, error) {
	if source == "" {
		source = "index"
	}
	r, err := maybeGunzip(r)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []entry, 8)
	parseErr := make(chan error, 1)
	// Parsing (gunzip, JSON) runs beside the SQLite writer: on two cores
	// the two overlap.
	go func() {
		defer close(batches)
		parseErr <- parseJSONL(ctx, r, source, batches)
	}()
	n, err := ix.write(ctx, func(ins *inserter) error {
		for batch := range batches {
			for i := range batch {
				if err := ins.add(ctx, &batch[i]); err != nil {
					return err
				}
			}
		}
		return <-parseErr
	})
	if err != nil {
		cancel()
		for range batches { // let the parser finish
		}
		return 0, err
	}
	return n, nil
}

// parseJSONL sends the works of r in batches until r ends or ctx is done.
func parseJSONL(ctx context.Context, r io.Reader, source string, out chan<- []entry) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	batch := make([]entry, 0, batchSize)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if b[0] != '{' {
			return fmt.Errorf("line %d: not a JSON object (want one JSON object a line)", line)
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		e, err := rec.entry(source)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		batch = append(batch, e)
		if len(batch) == batchSize {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]entry, 0, batchSize)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than %d bytes", line+1, maxLine)
		}
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// maybeGunzip returns a reader of r's content, gunzipped when r starts
// with the gzip magic bytes.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 1<<20), nil
	}
	return br, nil
}

// Add adds or replaces works.
func (ix *Index) Add(ctx context.Context, works ...Work) (int, error) {
	return ix.write(ctx, func(ins *inserter) error {
		for i := range works {
			if works[i].Source == "" {
				works[i].Source = "index"
			}
			if err := ins.add(ctx, &entry{Work: works[i]}); err != nil {
				return err
			}
		}
		return nil
	})
}

// inserter adds works within one write transaction.
type inserter struct {
	tx   *sql.Tx
	stmt *sql.Stmt
	n    int
	// before is the number of works before the transaction.
	before int
	// bulk is set once the triggers that keep works_fts in step are
	// dropped, to be rebuilt at the end.
	bulk bool
}

const upsert = `INSERT INTO works (id, source, title, abstract, year, authors, categories, url, provenance)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET source = excluded.source, title = excluded.title,
	abstract = excluded.abstract, year = excluded.year, authors = excluded.authors,
	categories = excluded.categories, url = excluded.url, provenance = excluded.provenance`

func (ins *inserter) add(ctx context.Context, e *entry) error {
	if e.ID == "" {
		return errors.New("work without an id")
	}
	if _, err := ins.stmt.ExecContext(ctx, e.ID, e.Source, e.Title, e.Abstract, e.Year,
		jsonList(e.Authors), jsonList(e.Categories), e.URL, e.Provenance); err != nil {
		return fmt.Errorf("add %s: %w", e.ID, err)
	}
	ins.n++
	// Once a load is large, and larger than what the index held, indexing
	// it all afresh at the end is cheaper than updating the full-text
	// index work by work (about 2.5 times, measured): drop the triggers.
	if !ins.bulk && ins.n >= bulkThreshold && ins.n >= ins.before {
		if _, err := ins.tx.ExecContext(ctx, dropFTSTriggers); err != nil {
			return fmt.Errorf("bulk load: %w", err)
		}
		ins.bulk = true
	}
	return nil
}

// finish brings the full-text index up to date after a bulk load and
// merges it into one b-tree, which keeps queries fast.
func (ins *inserter) finish(ctx context.Context) error {
	if !ins.bulk {
		return nil
	}
	for _, q := range []string{
		"INSERT INTO works_fts(works_fts) VALUES ('rebuild')",
		ftsTriggers,
		"INSERT INTO works_fts(works_fts) VALUES ('optimize')",
	} {
		if _, err := ins.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild the full-text index: %w", err)
		}
	}
	return nil
}

// write runs fn in one transaction on one connection tuned for bulk
// writes.
func (ix *Index) write(ctx context.Context, fn func(*inserter) error) (int, error) {
	conn, err := ix.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// The load is one transaction, so a crash loses it whole and never
	// leaves half a file: durability of each page is not needed meanwhile.
	// A large page cache keeps the FTS5 b-trees in memory.
	restore := "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -2000" // SQLite's default
	defer conn.ExecContext(context.WithoutCancel(ctx), restore)
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144"); err != nil {
		return 0, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	ins := &inserter{tx: tx}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM works").Scan(&ins.before); err != nil {
		return 0, err
	}
	if ins.stmt, err = tx.PrepareContext(ctx, upsert); err != nil {
		return 0, err
	}
	defer ins.stmt.Close()
	if err := fn(ins); err != nil {
		return 0, err
	}
	if err := ins.finish(ctx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	ix.vecs.invalidate()
	ix.stats.invalidate()
	return ins.n, nil
}
