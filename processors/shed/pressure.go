package shed

import (
	"math"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// heapObjectsMetric is the runtime metric compared to the soft limit: the
// bytes of heap objects, live or not yet swept, the same quantity the
// memory_limiter checks (runtime.MemStats.Alloc) without stopping the world.
const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

// pressure is a cached reading of memory pressure: used / limit, sampled
// at most once per interval, by whichever caller finds it stale. No
// goroutine.
type pressure struct {
	limit    float64
	interval int64 // nanoseconds
	now      func() int64
	read     func() uint64

	next  atomic.Int64  // when the reading goes stale, in nanoseconds
	ratio atomic.Uint64 // math.Float64bits of the last ratio

	mu     sync.Mutex // guards sample
	sample []metrics.Sample
}

func newPressure(limitBytes uint64, interval time.Duration) *pressure {
	p := &pressure{
		limit:    float64(limitBytes),
		interval: int64(interval),
		now:      func() int64 { return time.Now().UnixNano() },
		sample:   []metrics.Sample{{Name: heapObjectsMetric}},
	}
	p.read = p.readHeap
	return p
}

// readHeap reads the heap objects metric; a runtime without it reads 0.
func (p *pressure) readHeap() uint64 {
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return p.sample[0].Value.Uint64()
}

// Ratio is used memory over the limit as of the last sample, refreshed if
// it is older than the interval.
func (p *pressure) Ratio() float64 {
	now := p.now()
	if now >= p.next.Load() && p.mu.TryLock() {
		if now >= p.next.Load() {
			p.ratio.Store(math.Float64bits(float64(p.read()) / p.limit))
			p.next.Store(now + p.interval)
		}
		p.mu.Unlock()
	}
	return math.Float64frombits(p.ratio.Load())
}
