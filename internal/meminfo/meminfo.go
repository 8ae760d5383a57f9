// Package meminfo reads the machine's memory figures from /proc/meminfo, for
// sizing how many sandboxed runs fit side by side.
package meminfo

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Total is the machine's RAM in bytes (MemTotal), 0 when unknown.
func Total() int64 { return read("/proc/meminfo", "MemTotal:") }

// Available is the memory available for new work in bytes (MemAvailable),
// 0 when unknown.
func Available() int64 { return read("/proc/meminfo", "MemAvailable:") }

// read returns the field named key (with its colon) of a meminfo file, in
// bytes; 0 when the file or the field is missing or malformed.
func read(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == key {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
