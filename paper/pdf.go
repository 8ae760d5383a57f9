package paper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfText is what a PDF yields: one string per page and the document's
// metadata title, if any.
type pdfText struct {
	Pages []string
	Title string // the Info dictionary's Title; often empty or a file name
}

// engine is the one PDFium WebAssembly pool of the process. It starts with
// the first PDF and lives until Close.
var engine pdfEngine

type pdfEngine struct {
	mu    sync.Mutex
	pool  pdfium.Pool
	cache wazero.CompilationCache // nil when no cache directory could be used
	dir   string                  // SetCacheDir's; "" for the default
	stats EngineStats
}

// EngineStats describes how the PDFium WebAssembly pool started.
type EngineStats struct {
	Started  bool
	Init     time.Duration // compiling (or loading) the module and starting the first worker
	Cached   bool          // the compiled module came from the on-disk cache
	CacheDir string        // where compiled code is cached; "" when not cached
	RSS      int64         // resident set size in bytes right after start (Linux; 0 elsewhere)
	RSSGrew  int64         // resident set growth in bytes during start
}

// PDFiumStats reports how the PDFium pool started, or Started false when no
// PDF has been read since the program began or since Close.
func PDFiumStats() EngineStats {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	return engine.stats
}

// Close shuts the PDFium pool down and frees its memory. A later PDF starts
// a new pool. Programs that read PDFs call it once before they exit.
func Close() error {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.pool == nil {
		return nil
	}
	err := engine.pool.Close()
	if engine.cache != nil {
		// The cache owns the compiled code; closing it releases that memory.
		err = errors.Join(err, engine.cache.Close(context.Background()))
	}
	engine.pool, engine.cache, engine.stats = nil, nil, EngineStats{}
	if err != nil {
		return fmt.Errorf("close pdfium: %w", err)
	}
	return nil
}

// maxWorkers bounds how many PDFs are read at the same time; every worker
// holds its own PDFium memory.
const maxWorkers = 2

// get returns the pool, starting it on first use. Compiling PDFium's
// WebAssembly takes about 3 s and briefly some 300 MB; the compiled code is
// cached on disk (see cacheDir) so later processes start in about 0.1 s.
func (e *pdfEngine) get() (pdfium.Pool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool != nil {
		return e.pool, nil
	}
	rss0 := rss()
	start := time.Now()
	cache, dir, cached := compilationCache(e.dir)
	cfg := webassembly.Config{
		MinIdle:  1,
		MaxIdle:  1,
		MaxTotal: maxWorkers,
		// Documents are passed as bytes: PDFium sees no file system.
		FSConfig: wazero.NewFSConfig(),
		Stdout:   io.Discard,
		Stderr:   io.Discard,
	}
	if cache != nil {
		// The bundled module needs exception handling; see webassembly.Config.
		cfg.RuntimeConfig = wazero.NewRuntimeConfig().
			WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
			WithCompilationCache(cache)
	}
	pool, err := webassembly.Init(cfg)
	if err != nil {
		if cache != nil {
			cache.Close(context.Background())
		}
		return nil, fmt.Errorf("start pdfium (webassembly): %w", err)
	}
	init := time.Since(start)
	if !cached {
		// Compiling leaves a few hundred MB of garbage; give it back now
		// rather than carry it through a long run.
		debug.FreeOSMemory()
	}
	e.pool, e.cache = pool, cache
	now := rss()
	e.stats = EngineStats{Started: true, Init: init, Cached: cached, CacheDir: dir, RSS: now, RSSGrew: now - rss0}
	return pool, nil
}

// SetCacheDir names the directory for PDFium's compiled code (the config's
// cache_dir); "" restores the default (see cacheDir). It applies to the next
// start of the engine.
func SetCacheDir(dir string) {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	engine.dir = dir
}

// cacheDir returns where compiled code is cached: dir when set, else
// $XDG_CACHE_HOME/mlrc, else /var/tmp/mlrc-<uid>. The default does not
// depend on HOME: a fresh HOME (CI, containers) reuses the code compiled by
// the machine's first use instead of compiling again (4 s, 350 MB).
func cacheDir(dir string) string {
	switch {
	case dir != "":
	case os.Getenv("XDG_CACHE_HOME") != "" && filepath.IsAbs(os.Getenv("XDG_CACHE_HOME")):
		dir = filepath.Join(os.Getenv("XDG_CACHE_HOME"), "mlrc")
	default:
		dir = filepath.Join("/var/tmp", fmt.Sprintf("mlrc-%d", os.Getuid()))
	}
	return filepath.Join(dir, "pdfium-wasm")
}

// compilationCache opens wazero's on-disk cache for compiled code in
// cacheDir(base). cached reports whether it already held something. The
// cache holds machine code the process will run, so a directory that
// another user could have written (not ours, or writable by others, e.g.
// planted in /var/tmp) is not used.
func compilationCache(base string) (cache wazero.CompilationCache, dir string, cached bool) {
	dir = cacheDir(base)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", false
	}
	if !private(dir) || !private(filepath.Dir(dir)) {
		return nil, "", false
	}
	entries, _ := os.ReadDir(dir)
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, "", false
	}
	return cache, dir, len(entries) > 0
}

// private reports whether dir is a real directory (not a symbolic link)
// owned by this process's user and not writable by group or others.
func private(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Getuid()
}

// rss returns the process's resident set size in bytes, 0 when unknown.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// readPDF extracts the text of a PDF, page by page: with PDFium first, with
// poppler's pdftotext when PDFium fails and pdftotext is installed.
func readPDF(ctx context.Context, name string, data []byte) (*pdfText, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return nil, fmt.Errorf("%s: %w", name, ErrNotPDF)
	}
	t, perr := pdfiumText(ctx, data)
	if perr == nil && hasText(t.Pages) {
		return t, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	t2, terr := pdftotext(ctx, data)
	switch {
	case terr == nil && hasText(t2.Pages):
		if t != nil && t2.Title == "" {
			t2.Title = t.Title
		}
		return t2, nil
	case perr == nil && (terr == nil || errors.Is(terr, errNoPdftotext)):
		// PDFium read the document and found no text; pdftotext agrees or is absent.
		return nil, fmt.Errorf("%s: %w", name, ErrNoTextLayer)
	case errors.Is(perr, errEngine) && errors.Is(terr, errNoPdftotext):
		return nil, fmt.Errorf("%s: cannot read PDFs here (%v; pdftotext is not installed): install poppler-utils, or pass a text version with --paper FILE.txt", name, perr)
	case perr != nil && errors.Is(terr, errNoPdftotext):
		return nil, fmt.Errorf("%s: %w (pdfium: %v; pdftotext is not installed, apt-get install poppler-utils to try it)", name, ErrUnreadablePDF, perr)
	case perr != nil:
		return nil, fmt.Errorf("%s: %w (pdfium: %v; pdftotext: %v)", name, ErrUnreadablePDF, perr, terr)
	default:
		return nil, fmt.Errorf("%s: %w", name, ErrNoTextLayer)
	}
}

func hasText(pages []string) bool {
	n := 0
	for _, p := range pages {
		n += len(strings.TrimSpace(p))
		if n >= 200 {
			return true
		}
	}
	return false
}

// pdfiumText reads every page's text with PDFium.
func pdfiumText(ctx context.Context, data []byte) (*pdfText, error) {
	pool, err := engine.get()
	if err != nil {
		return nil, err
	}
	inst, err := pool.GetInstanceWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("pdfium worker: %w", err)
	}
	defer inst.Close()

	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})

	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return nil, fmt.Errorf("page count: %w", err)
	}
	t := &pdfText{}
	if md, err := inst.GetMetaData(&requests.GetMetaData{Document: doc.Document, Tags: &[]string{"Title"}}); err == nil {
		for _, tag := range md.Tags {
			if tag.Tag == "Title" {
				t.Title = strings.TrimSpace(tag.Value)
			}
		}
	}
	for i := range count.PageCount {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := inst.GetPageText(&requests.GetPageText{
			Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc.Document, Index: i}},
		})
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		t.Pages = append(t.Pages, page.Text)
	}
	return t, nil
}

var (
	errEngine      = errors.New("pdfium (webassembly) did not start")
	errNoPdftotext = errors.New("pdftotext is not installed")
)

// pdftotext runs poppler's pdftotext -layout on data, when it is installed.
func pdftotext(ctx context.Context, data []byte) (*pdfText, error) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		return nil, errNoPdftotext
	}
	cmd := exec.CommandContext(ctx, bin, "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// The first lines of stderr say what is wrong; the rest repeats it.
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		if msg == "" {
			msg = err.Error()
		}
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return nil, errors.New(msg)
	}
	pages := strings.Split(string(out), "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	return &pdfText{Pages: pages}, nil
}
