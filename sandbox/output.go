package sandbox

import (
	"fmt"
	"unicode/utf8"
)

// capture keeps the head and the tail of a stream, half the limit each,
// and counts every byte; it never blocks, so a command that prints without
// end is drained, and only the middle is discarded.
type capture struct {
	headMax, tailMax int
	head, tail       []byte
	total            int64
}

func newCapture(limit int64) *capture {
	h := int(limit / 2)
	return &capture{headMax: h, tailMax: int(limit) - h}
}

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.total += int64(n)
	if room := c.headMax - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) >= c.tailMax {
		c.tail = append(c.tail[:0], p[len(p)-c.tailMax:]...)
		return n, nil
	}
	c.tail = append(c.tail, p...)
	if len(c.tail) > 2*c.tailMax { // compact now and then: amortised O(1) a byte
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-c.tailMax:]...)
	}
	return n, nil
}

// Output renders what was kept: head, a marker with the bytes left out,
// tail. Runes cut at the seams are dropped.
func (c *capture) Output() Output {
	tail := c.tail
	if len(tail) > c.tailMax {
		tail = tail[len(tail)-c.tailMax:]
	}
	if c.total <= int64(len(c.head)+len(tail)) {
		return Output{Text: string(c.head) + string(tail), Total: c.total}
	}
	head, tail := trimCutEnd(c.head), trimCutStart(tail)
	omitted := c.total - int64(len(head)) - int64(len(tail))
	return Output{
		Text:      string(head) + fmt.Sprintf("\n[… %d bytes omitted …]\n", omitted) + string(tail),
		Total:     c.total,
		Truncated: true,
	}
}

// trimCutEnd drops an incomplete UTF-8 sequence at the end of b.
func trimCutEnd(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// trimCutStart drops continuation bytes at the start of b.
func trimCutStart(b []byte) []byte {
	for i := 0; i < len(b) && i < utf8.UTFMax; i++ {
		if utf8.RuneStart(b[i]) {
			return b[i:]
		}
	}
	return b
}
