package lit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// Embedder turns texts into vectors, one per text, in order.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// rrfK is the constant of reciprocal rank fusion: a hit at rank r in one
// list adds 1/(rrfK+r).
const rrfK = 60

// Embed stores vectors from e, under the name model, for every work that
// has none for that model yet, batch works per call to e. It commits after
// each batch, so an interrupted run keeps what it did. It returns the number
// of works embedded.
func (ix *Index) Embed(ctx context.Context, e Embedder, model string, batch int) (int, error) {
	if model == "" {
		return 0, errors.New("embed: no model name")
	}
	if batch <= 0 {
		batch = 64
	}
	done := 0
	defer func() {
		if done > 0 {
			ix.vecs.invalidate()
		}
	}()
	for {
		docs, texts, err := ix.unembedded(ctx, model, batch)
		if err != nil || len(docs) == 0 {
			return done, err
		}
		vecs, err := e.Embed(ctx, texts)
		if err != nil {
			return done, fmt.Errorf("embed: %w", err)
		}
		if len(vecs) != len(texts) {
			return done, fmt.Errorf("embed: %d vectors for %d texts", len(vecs), len(texts))
		}
		if err := ix.storeVectors(ctx, model, docs, vecs); err != nil {
			return done, err
		}
		done += len(docs)
	}
}

// embedText is what is embedded for a work.
func embedText(title, abstract string) string {
	if abstract == "" {
		return title
	}
	return title + "\n\n" + abstract
}

func (ix *Index) unembedded(ctx context.Context, model string, n int) ([]int64, []string, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT doc, title, abstract FROM works AS w
WHERE NOT EXISTS (SELECT 1 FROM embeddings AS e WHERE e.model = ? AND e.doc = w.doc)
ORDER BY doc LIMIT ?`, model, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var docs []int64
	var texts []string
	for rows.Next() {
		var doc int64
		var title, abstract string
		if err := rows.Scan(&doc, &title, &abstract); err != nil {
			return nil, nil, err
		}
		docs = append(docs, doc)
		texts = append(texts, embedText(title, abstract))
	}
	return docs, texts, rows.Err()
}

func (ix *Index) storeVectors(ctx context.Context, model string, docs []int64, vecs [][]float32) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO embeddings (model, doc, vec) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, doc := range docs {
		if len(vecs[i]) == 0 {
			return fmt.Errorf("embed: empty vector for text %d", i)
		}
		if _, err := stmt.ExecContext(ctx, model, doc, encodeVector(vecs[i])); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// normalize scales v to unit length in place; a zero vector stays zero.
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// SearchHybrid fuses BM25 and embedding search by reciprocal rank fusion
// (k=60): each work scores the sum of 1/(60+rank) over the two rankings,
// each taken to its top max(50, 5k). Vectors come from the model's stored
// embeddings (see Embed); the query is embedded with e. Score is the fused
// score. With no vectors stored for model it is an error, so that a
// forgotten Embed does not pass for a hybrid search.
func (ix *Index) SearchHybrid(ctx context.Context, query string, k int, e Embedder, model string) ([]Hit, error) {
	if k <= 0 {
		k = DefaultK
	}
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	n := max(50, 5*k)
	lexical, err := ix.Search(ctx, query, n)
	if err != nil {
		return nil, err
	}
	set, err := ix.vecs.get(ctx, ix, model)
	if err != nil {
		return nil, err
	}
	if len(set.docs) == 0 {
		return nil, fmt.Errorf("no %s embeddings in the index: run Embed first", model)
	}
	qv, err := e.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("embed query: %w", err)
	}
	if len(qv) != 1 {
		return nil, fmt.Errorf("embed query: %d vectors for 1 text", len(qv))
	}
	dense, err := set.nearest(normalize(append([]float32(nil), qv[0]...)), n)
	if err != nil {
		return nil, err
	}

	type candidate struct {
		work  Work
		score float64
	}
	byID := map[string]*candidate{}
	var order []*candidate
	add := func(w Work, rank int) {
		c, ok := byID[w.ID]
		if !ok {
			c = &candidate{work: w}
			byID[w.ID] = c
			order = append(order, c)
		}
		c.score += 1 / float64(rrfK+rank)
	}
	for i, h := range lexical {
		add(h.Work, i+1)
	}
	for i, doc := range dense {
		w, err := ix.work(ctx, doc)
		if err != nil {
			return nil, err
		}
		add(w, i+1)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].score > order[j].score })
	hits := make([]Hit, 0, min(k, len(order)))
	for i, c := range order[:min(k, len(order))] {
		hits = append(hits, Hit{Work: c.work, Score: c.score, Rank: i + 1})
	}
	return hits, nil
}

func (ix *Index) work(ctx context.Context, doc int64) (Work, error) {
	w, err := scanWork(ix.db.QueryRowContext(ctx, "SELECT "+workColumns+" FROM works AS w WHERE w.doc = ?", doc))
	if err != nil {
		return Work{}, fmt.Errorf("work %d: %w", doc, err)
	}
	return w, nil
}

// vectorSet is one model's vectors, unit length, in memory.
type vectorSet struct {
	docs []int64
	vecs [][]float32
}

// nearest returns the docs of the n vectors most similar to q (unit
// length), best first.
func (s *vectorSet) nearest(q []float32, n int) ([]int64, error) {
	type scored struct {
		doc int64
		sim float32
	}
	all := make([]scored, 0, len(s.docs))
	for i, v := range s.vecs {
		if len(v) != len(q) {
			return nil, fmt.Errorf("query vector has %d dimensions, stored vectors %d: was the index embedded with another model?", len(q), len(v))
		}
		var dot float32
		for j, x := range v {
			dot += x * q[j]
		}
		all = append(all, scored{s.docs[i], dot})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].sim > all[j].sim })
	if len(all) > n {
		all = all[:n]
	}
	docs := make([]int64, len(all))
	for i, a := range all {
		docs[i] = a.doc
	}
	return docs, nil
}

// vectorCache holds the vectors of the model searched last. Writes through
// the Index invalidate it; writes by another process are not seen until the
// Index is reopened.
type vectorCache struct {
	mu    sync.Mutex
	model string
	set   *vectorSet
}

func (c *vectorCache) invalidate() {
	c.mu.Lock()
	c.set = nil
	c.mu.Unlock()
}

func (c *vectorCache) get(ctx context.Context, ix *Index, model string) (*vectorSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set != nil && c.model == model {
		return c.set, nil
	}
	rows, err := ix.db.QueryContext(ctx, "SELECT doc, vec FROM embeddings WHERE model = ?", model)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := &vectorSet{}
	for rows.Next() {
		var doc int64
		var b []byte
		if err := rows.Scan(&doc, &b); err != nil {
			return nil, err
		}
		set.docs = append(set.docs, doc)
		set.vecs = append(set.vecs, normalize(decodeVector(b)))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.model, c.set = model, set
	return set, nil
}
