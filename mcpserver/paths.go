package mcpserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlrc/mlrc/paper"
)

// resolveRoots makes each root absolute with its symbolic links resolved.
func resolveRoots(roots []string) ([]string, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("mcp server: no root directory: name the directories clients may use (--root DIR)")
	}
	out := make([]string, 0, len(roots))
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("mcp server: root %s: %w", r, err)
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("mcp server: root %s: %w", r, err)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("mcp server: root %s: %w", r, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("mcp server: root %s is not a directory", r)
		}
		out = append(out, real)
	}
	return out, nil
}

// confine returns the path p resolved (relative paths are taken from the
// first root), or an error when it is not under one of the roots. The
// check is on the path with its symbolic links resolved, so a link inside
// a root that points outside is refused.
func (s *Server) confine(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("no path given")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.cfg.Roots[0], p)
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	for _, r := range s.cfg.Roots {
		if real == r || strings.HasPrefix(real, r+string(filepath.Separator)) {
			return real, nil
		}
	}
	return "", fmt.Errorf("%s is outside the directories this server may use (%s); start mlrc mcp with --root for it", p, strings.Join(s.cfg.Roots, ", "))
}

// paperRef returns a paper reference a child may read: an arXiv id or URL
// as given, a file confined to the roots.
func (s *Server) paperRef(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("no paper given: a file path, an arXiv id or a URL")
	}
	if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
		return ref, nil
	}
	if _, err := os.Lstat(ref); err != nil {
		if _, ok := paper.ParseArxivID(ref); ok {
			return ref, nil
		}
	}
	return s.confine(ref)
}
