//go:build !race

// Allocation counts are only meaningful without the race detector, whose
// instrumentation allocates and whose sync.Pool drops items at random: the
// README's go test ./... runs these tests, CI's race stage leaves them out.

package slo

import (
	"fmt"
	"testing"
	"time"
)

// TestHotPathsAllocateNothing holds the engine's per-event paths to what
// README.md and slo/README.md state: once an instance and a series are
// known, accounting an event or a point allocates nothing, whatever the
// timestamp (slices rotate in place over a whole day of events here).
func TestHotPathsAllocateNothing(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.999))
	group := func() map[string]string { return map[string]string{"region": "eu"} }
	groupHash := HashString(HashSeed, "region=eu")
	in := e.Instance(0, groupHash, group, t0)
	const nSeries = 100
	hashes := make([]uint64, nSeries)
	for i := range hashes {
		hashes[i] = HashString(HashSeed, fmt.Sprintf("series-%d", i))
		e.AddCumulative(in, hashes[i], t0, t0, 0, 0)
		e.AddDelta(in, hashes[i]+1, t0, t0, 0, 0)
	}
	// step walks a day in 1.7s steps, so every run lands in a later
	// slice now and then.
	step := func(i int) time.Time { return t0.Add(time.Duration(i) * 1700 * time.Millisecond) }
	tests := []struct {
		name string
		// run makes call i; counted says whether it must be counted.
		run func(i int) (counted bool)
	}{
		{"AddEvents (a span, a log record)", func(i int) bool { return e.AddEvents(in, step(i), 1, float64(i&1)) == Counted }},
		{"AddCumulative of a known series", func(i int) bool {
			n := i/nSeries + 1
			return e.AddCumulative(in, hashes[i%nSeries], t0, step(n), float64(10*n), float64(n)) == Counted
		}},
		{"AddDelta of a known series", func(i int) bool {
			return e.AddDelta(in, hashes[i%nSeries]+1, t0, step(i/nSeries+1), 1, 0) == Counted
		}},
		{"Instance of a known group", func(int) bool { return e.Instance(0, groupHash, group, t0) == in }},
		{"HashString", func(int) bool {
			return HashString(HashString(HashSeed, "service.name=checkout"), "http.route=/api/v1/pay") != HashSeed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, missed := 0, 0
			allocs := testing.AllocsPerRun(50000, func() {
				i++
				if !tt.run(i) {
					missed++
				}
			})
			if allocs != 0 {
				t.Errorf("%.2f allocations per call, want none", allocs)
			}
			// The calls must have done the work: a path that returns early
			// allocates nothing either.
			if missed != 0 {
				t.Errorf("%d of %d calls were not counted", missed, i)
			}
		})
	}
}
