package lit

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// checkIntegrity asks FTS5 whether works_fts matches the works table.
func checkIntegrity(t *testing.T, ix *Index) {
	t.Helper()
	if _, err := ix.db.Exec("INSERT INTO works_fts(works_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Fatalf("full-text index out of step with works: %v", err)
	}
	var n int
	if err := ix.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'works_fts_%'").Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d full-text triggers (%v), want 3", n, err)
	}
}

// synthetic returns n JSONL works; work i has the word "w<i>x" and, in
// version v, the word "v<v>x".
func synthetic(n, v int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": "syn:%d", "title": "Synthetic work w%dx", "abstract": "Version v%dx of a generated abstract about topic t%dx."}`+"\n", i, i, v, i%7)
	}
	return b.String()
}

func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	if _, err := ix.AddJSONL(ctx, strings.NewReader(fixture), ""); err != nil {
		t.Fatal(err)
	}
	const n = bulkThreshold + 500
	if _, err := ix.Embed(ctx, &conceptEmbedder{}, "m", 100); err != nil {
		t.Fatal(err)
	}

	// A load larger than the index: the bulk path, with the triggers
	// dropped and the index rebuilt.
	added, err := ix.AddJSONL(ctx, strings.NewReader(synthetic(n, 1)), "")
	if err != nil || added != n {
		t.Fatalf("bulk load: %d, %v", added, err)
	}
	checkIntegrity(t, ix)
	if got, want := count(t, ix), n+3; got != want {
		t.Fatalf("count %d, want %d", got, want)
	}
	for _, q := range []string{"w0x", "w5499x", "molecules"} {
		if hits, _ := ix.Search(ctx, q, 5); len(hits) != 1 {
			t.Fatalf("%s: %d hits, want 1", q, len(hits))
		}
	}

	// The same works, changed, in bulk again: old words gone, and a small
	// add afterwards goes through the restored triggers.
	if _, err := ix.AddJSONL(ctx, strings.NewReader(synthetic(n, 2)+fixture), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(ctx, Work{ID: "late", Title: "Late addition zzyzx"}); err != nil {
		t.Fatal(err)
	}
	checkIntegrity(t, ix)
	if hits, _ := ix.Search(ctx, "v1x", 5); len(hits) != 0 {
		t.Fatalf("old version still found: %d hits", len(hits))
	}
	if hits, _ := ix.Search(ctx, "v2x", n+10); len(hits) != n {
		t.Fatalf("new version: %d hits, want %d", len(hits), n)
	}
	if hits, _ := ix.Search(ctx, "zzyzx", 5); len(hits) != 1 {
		t.Fatalf("small add after a bulk load: %d hits", len(hits))
	}
	// The fixture's works kept their text, and so their vectors.
	var vecs int
	ix.db.QueryRow("SELECT count(*) FROM embeddings").Scan(&vecs)
	if vecs != 3 {
		t.Fatalf("%d vectors after re-adding unchanged works, want 3", vecs)
	}
}

func TestBulkLoadFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	if _, err := ix.AddJSONL(ctx, strings.NewReader(fixture), ""); err != nil {
		t.Fatal(err)
	}
	bad := synthetic(bulkThreshold+100, 1) + "{broken\n"
	_, err := ix.AddJSONL(ctx, strings.NewReader(bad), "")
	if want := fmt.Sprintf("line %d", bulkThreshold+101); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one naming %s", err, want)
	}
	if got := count(t, ix); got != 3 {
		t.Fatalf("count %d after a failed bulk load, want 3", got)
	}
	checkIntegrity(t, ix) // the triggers are back
	if _, err := ix.Add(ctx, Work{ID: "late", Title: "Late addition zzyzx"}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := ix.Search(ctx, "zzyzx", 5); len(hits) != 1 {
		t.Fatalf("add after a failed bulk load: %d hits", len(hits))
	}
}
