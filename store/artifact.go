package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ArtifactInfo is an artifact's row: a file in the run directory worth
// naming, such as a report, a plot or a trained model.
type ArtifactInfo struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"` // relative to the run directory, slash-separated
	Kind    string    `json:"kind,omitempty"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// AddArtifact records the file at relPath, relative to the run directory,
// under name, with its size and SHA-256. Adding a name again replaces the
// record, for a file written anew on resume.
func (r *Run) AddArtifact(ctx context.Context, name, relPath, kind string) error {
	if name == "" {
		return fmt.Errorf("run %s: add artifact: no name given", r.ID)
	}
	if !filepath.IsLocal(relPath) {
		return fmt.Errorf("run %s: add artifact %s: path %q is not inside the run directory", r.ID, name, relPath)
	}
	sum, size, err := hashFile(filepath.Join(r.Dir, relPath))
	if err != nil {
		return fmt.Errorf("run %s: add artifact %s: %w", r.ID, name, err)
	}
	err = r.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO artifacts (run_id, name, path, kind, sha256, size, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, name) DO UPDATE SET path = excluded.path, kind = excluded.kind,
				sha256 = excluded.sha256, size = excluded.size, created_at = excluded.created_at`,
			r.ID, name, filepath.ToSlash(filepath.Clean(relPath)), kind, sum, size, timeText(now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("run %s: add artifact %s: %w", r.ID, name, err)
	}
	return nil
}

func hashFile(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// Artifacts lists the run's artifacts by name.
func (r *Run) Artifacts(ctx context.Context) ([]ArtifactInfo, error) {
	return listArtifacts(ctx, r.s.db, r.ID)
}

func listArtifacts(ctx context.Context, q querier, runID string) ([]ArtifactInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, path, kind, sha256, size, created_at
		FROM artifacts WHERE run_id = ? ORDER BY name`, runID)
	if err != nil {
		return nil, fmt.Errorf("run %s: list artifacts: %w", runID, err)
	}
	defer rows.Close()
	var arts []ArtifactInfo
	for rows.Next() {
		var a ArtifactInfo
		if err := rows.Scan(&a.Name, &a.Path, &a.Kind, &a.SHA256, &a.Size, timeScan{&a.Created}); err != nil {
			return nil, fmt.Errorf("run %s: list artifacts: %w", runID, err)
		}
		arts = append(arts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run %s: list artifacts: %w", runID, err)
	}
	return arts, nil
}
