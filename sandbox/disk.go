//go:build linux

package sandbox

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"time"
)

// diskWatch measures the writable mounts while a run goes on and reports
// on exceeded, once, the bytes they hold when that passes the quota.
type diskWatch struct {
	exceeded chan int64
	done     chan struct{}
}

// watchDisk starts watching dirs against quota; with no dirs it never
// reports. The interval grows with the time a measurement takes, so that a
// workspace of many files does not cost more than a tenth of a core.
func watchDisk(dirs []string, quota int64) *diskWatch {
	w := &diskWatch{exceeded: make(chan int64, 1), done: make(chan struct{})}
	if len(dirs) == 0 || quota <= 0 {
		return w
	}
	go func() {
		interval := 200 * time.Millisecond
		for {
			select {
			case <-w.done:
				return
			case <-time.After(interval):
			}
			start := time.Now()
			n := diskUsage(dirs)
			if n > quota {
				w.exceeded <- n
				return
			}
			interval = max(200*time.Millisecond, 10*time.Since(start))
		}
	}()
	return w
}

func (w *diskWatch) stop() { close(w.done) }

// diskUsage is the space the files below dirs take (allocated blocks, so
// a sparse file counts for what it holds), without following symlinks.
func diskUsage(dirs []string) int64 {
	var n int64
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if fi, err := e.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				}
			}
			return nil
		})
	}
	return n
}
