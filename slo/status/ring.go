package status

import "time"

// History is a bounded ring of Points sampled at most once per step, plus
// the latest point offered, so a chart always ends at the present even
// when the step is long (a 30d period keeps one point per 2h). Its buffer
// grows as points arrive, up to its capacity. It is not safe for
// concurrent use; its owner locks.
type History struct {
	step   time.Duration
	limit  int
	buf    []Point
	next   int // where the next point goes once the buffer is full
	latest Point
}

// NewHistory returns a ring of up to capacity points (at least 2) that
// keeps one point per step: capacity × step is the span of time it covers.
func NewHistory(capacity int, step time.Duration) *History {
	return &History{step: step, limit: max(capacity, 2)}
}

// Add offers p: it becomes the latest point, and is kept in the ring
// unless the last kept point is less than one step older. It reports
// whether p was kept. Once the buffer is full it never allocates.
func (h *History) Add(p Point) bool {
	h.latest = p
	if n := len(h.buf); n > 0 {
		last := h.buf[n-1]
		if n == h.limit {
			last = h.buf[(h.next-1+n)%n]
		}
		if p.At.Sub(last.At) < h.step {
			return false
		}
	}
	if len(h.buf) < h.limit {
		h.buf = append(h.buf, p)
		return true
	}
	h.buf[h.next] = p
	h.next = (h.next + 1) % h.limit
	return true
}

// Len returns the number of points kept.
func (h *History) Len() int { return len(h.buf) }

// Points returns a copy of the kept points, oldest first, followed by the
// latest point offered when it was not kept.
func (h *History) Points() []Point {
	out := make([]Point, 0, len(h.buf)+1)
	out = append(out, h.buf[h.next:]...)
	out = append(out, h.buf[:h.next]...)
	if n := len(out); n > 0 && h.latest.At.After(out[n-1].At) {
		out = append(out, h.latest)
	}
	return out
}
