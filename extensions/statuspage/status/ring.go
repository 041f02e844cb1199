package status

import "time"

// History is a bounded ring of Points sampled at most once per step, plus
// the latest point offered, so a chart always ends at the present even
// when the step is long (a 30d period keeps one point per hour). It is not
// safe for concurrent use; its owner locks.
type History struct {
	step   time.Duration
	buf    []Point
	next   int
	full   bool
	latest Point
}

// NewHistory returns a ring of capacity points (at least 2) that keeps one
// point per step: capacity × step is the span of time it covers.
func NewHistory(capacity int, step time.Duration) *History {
	capacity = max(capacity, 2)
	return &History{step: step, buf: make([]Point, capacity)}
}

// Add appends p unless the last point is less than one step older; it
// reports whether p was kept. It never allocates.
func (h *History) Add(p Point) bool {
	h.latest = p
	if n := h.Len(); n > 0 {
		last := h.buf[(h.next-1+len(h.buf))%len(h.buf)]
		if p.At.Sub(last.At) < h.step {
			return false
		}
	}
	h.buf[h.next] = p
	h.next++
	if h.next == len(h.buf) {
		h.next, h.full = 0, true
	}
	return true
}

// Len returns the number of points held.
func (h *History) Len() int {
	if h.full {
		return len(h.buf)
	}
	return h.next
}

// Points returns a copy of the sampled points, oldest first, followed by
// the latest point offered when it was not kept.
func (h *History) Points() []Point {
	out := make([]Point, 0, h.Len()+1)
	if h.full {
		out = append(out, h.buf[h.next:]...)
	}
	out = append(out, h.buf[:h.next]...)
	if n := len(out); n > 0 && h.latest.At.After(out[n-1].At) {
		out = append(out, h.latest)
	}
	return out
}
