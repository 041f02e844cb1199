package slo

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

// point is one cumulative input point.
type point struct {
	start      time.Time
	at         int // minute
	total, bad float64
}

func TestCumulativeToDelta(t *testing.T) {
	start := minute(-1)
	tests := []struct {
		name      string
		countFrom time.Time
		points    []point
		wantTotal float64
		wantBad   float64
		outcomes  []Outcome
	}{
		{
			name:      "a series whose start time is known counts its first point in full",
			points:    []point{{start, 1, 7, 2}, {start, 2, 10, 3}},
			wantTotal: 10, wantBad: 3, outcomes: []Outcome{Counted, Counted},
		},
		{
			name:      "a series with unknown start time only sets a baseline with its first point",
			points:    []point{{time.Time{}, 1, 7, 2}, {time.Time{}, 2, 10, 3}},
			wantTotal: 3, wantBad: 1, outcomes: []Outcome{Baselined, Counted},
		},
		{
			name:      "a start time before CountFrom only sets a baseline",
			countFrom: minute(0),
			points:    []point{{start, 1, 7, 2}, {start, 2, 10, 3}},
			wantTotal: 3, wantBad: 1, outcomes: []Outcome{Baselined, Counted},
		},
		{
			name:      "a counter reset mid-window counts only the new events",
			points:    []point{{time.Time{}, 1, 100, 0}, {time.Time{}, 2, 110, 0}, {time.Time{}, 3, 4, 0}, {time.Time{}, 4, 9, 0}},
			wantTotal: 10 + 4 + 5, outcomes: []Outcome{Baselined, Counted, Reset, Counted},
		},
		{
			name:      "a new start time counts the new value in full",
			points:    []point{{start, 1, 100, 1}, {minute(2), 3, 6, 1}, {minute(2), 4, 8, 1}},
			wantTotal: 108, wantBad: 2, outcomes: []Outcome{Counted, Reset, Counted},
		},
		{
			name:      "a duplicate point is dropped and counted",
			points:    []point{{start, 1, 5, 0}, {start, 1, 5, 0}, {start, 2, 8, 0}},
			wantTotal: 8, outcomes: []Outcome{Counted, Duplicate, Counted},
		},
		{
			name:      "an out-of-order cumulative point is dropped: the newer point already carried its increase",
			points:    []point{{start, 1, 5, 0}, {start, 3, 9, 1}, {start, 2, 7, 0}, {start, 4, 10, 1}},
			wantTotal: 10, wantBad: 1, outcomes: []Outcome{Counted, Counted, OutOfOrder, Counted},
		},
		{
			name:      "a point from an older start time than the series' current one is out of order",
			points:    []point{{minute(2), 3, 5, 0}, {start, 4, 50, 0}},
			wantTotal: 5, outcomes: []Outcome{Counted, OutOfOrder},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEngine([]*spec.SLO{testSLO("a", 0.99)}, Options{CountFrom: tt.countFrom})
			require.NoError(t, err)
			in := e.Instance(0, HashSeed, nil, minute(0))
			var got []Outcome
			for _, p := range tt.points {
				got = append(got, e.AddCumulative(in, 42, p.start, minute(p.at), p.total, p.bad))
			}
			assert.Equal(t, tt.outcomes, got)
			st := status(e, minute(10))
			assert.Equal(t, tt.wantTotal, st.Windows[1].Total, "30m total")
			assert.Equal(t, tt.wantBad, st.Windows[1].Bad, "30m bad")
			assert.Equal(t, tt.wantTotal, st.Events)
		})
	}
}

func TestDeltaPoints(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	assert.Equal(t, Counted, e.AddDelta(in, 1, minute(0), minute(20), 10, 1))
	assert.Equal(t, Duplicate, e.AddDelta(in, 1, minute(0), minute(20), 10, 1), "same start and timestamp")
	assert.Equal(t, Late, e.AddDelta(in, 1, minute(0), minute(12), 5, 5), "a late delta point lands in its own slice")
	st := status(e, minute(20))
	assert.Equal(t, 10.0, st.Windows[0].Total, "5m window holds only the point at minute 20")
	assert.Equal(t, 15.0, st.Windows[1].Total, "30m window holds both")
	assert.Equal(t, 6.0, st.Windows[1].Bad)
	assert.Equal(t, map[string]uint64{"counted": 1, "duplicate": 1, "late": 1, "invalid": 0, "baselined": 0, "reset": 0,
		"out_of_order": 0, "too_old": 0, "previous_period": 0}, e.Stats())
}

func TestWindowsAreRatiosOfSums(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	e.AddEvents(in, minute(1), 1000, 0)
	e.AddEvents(in, minute(2), 10, 10)
	st := status(e, minute(2))
	w := st.Windows[0]
	assert.Equal(t, 1010.0, w.Total)
	assert.InDelta(t, 10.0/1010, w.ErrorRatio, 1e-15, "not the average of ratios (0.5)")
	assert.InDelta(t, 10.0/1010/0.01, w.BurnRate, 1e-12)
}

func TestWindowsForget(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	e.AddEvents(in, minute(1), 10, 1) // leaves 5m at minute 6, 30m at 31, 6h at 361
	status(e, minute(60*30))
	e.AddEvents(in, minute(60*30), 20, 2) // at 30h: in 1d, 3d, period
	st := status(e, minute(60*30))
	want := []float64{20, 20, 20, 20, 20, 20, 30, 30}
	for i, w := range st.Windows {
		assert.Equal(t, want[i], w.Total, "window %s", w.Name)
	}
	// Step the clock back: the point at minute 1 re-enters the 1d window
	// (which, by design, also holds the points stamped after now).
	st = status(e, minute(3))
	assert.Equal(t, 30.0, st.Windows[5].Total, "1d window at minute 3 after the clock stepped back")
}

func TestZeroTrafficNeverGivesNaN(t *testing.T) {
	e, rec := newTestEngine(t, testSLO("a", 0.999))
	e.Instance(0, HashSeed, nil, minute(0))
	for m := 0; m <= 120; m += 7 {
		st := status(e, minute(m))
		for _, w := range st.Windows {
			assert.True(t, w.NoData)
			assert.Equal(t, 0.0, w.ErrorRatio)
			assert.Equal(t, 0.0, w.BurnRate)
		}
		assert.Equal(t, 1.0, st.BudgetRemaining)
		assert.True(t, st.NoData)
		assert.Less(t, st.TimeToExhaustion, time.Duration(0))
	}
	assert.Empty(t, rec.got)
}

func TestBadAboveTotalIsClamped(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	e.AddEvents(in, minute(1), 1, 5)
	st := status(e, minute(1))
	assert.Equal(t, 1.0, st.Windows[0].ErrorRatio)
	assert.False(t, math.IsInf(st.Windows[0].BurnRate, 0))
}

func TestTooOldAndDataAhead(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	status(e, minute(60*24*40))
	assert.Equal(t, TooOld, e.AddEvents(in, minute(1), 1, 0), "older than the 30d period")
	assert.Equal(t, Counted, e.AddEvents(in, minute(60*24*40+30), 1, 0), "data ahead of the evaluation moves the windows on")
	assert.Equal(t, TooOld, e.AddEvents(in, minute(60*24*10-60), 1, 0), "now older than the period that ends at the new point")
	st := status(e, minute(60*24*40+30))
	assert.Equal(t, 1.0, st.Windows[0].Total)
}

func TestMemoryPerInstanceFor30Days(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	b := e.InstanceBytes(0)
	t.Logf("bytes per 30d instance: %d", b)
	assert.LessOrEqual(t, b, 64<<10)
}

// TestConcurrentAddAndEvaluate drives the engine from several goroutines
// at once, as the connector does (feeds on the pipeline's goroutines, the
// evaluation loop on its own): events, cumulative points and new instances
// arrive while evaluations run. Under -race (CI's race stage) any
// unsynchronised access fails it; without, the counts must still add up.
func TestConcurrentAddAndEvaluate(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	ins := make([]*Instance, 7)
	for i := range ins {
		ins[i] = e.Instance(0, uint64(i), nil, minute(0))
	}
	const writers, perWriter = 4, 2000
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			cum := ins[w]
			for i := range perWriter {
				e.AddEvents(ins[(w+i)%len(ins)], minute(1), 1, 0)
				// One cumulative series per writer: it counts last - first.
				e.AddCumulative(cum, uint64(100+w), time.Time{}, minute(1).Add(time.Duration(i)*time.Millisecond), float64(i), 0)
				if i%100 == 0 {
					_ = e.Instance(0, uint64(1000+w*perWriter+i), nil, minute(1))
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	close(start)
	evaluations := 0
	for running := true; running; evaluations++ {
		select {
		case <-done:
			running = false
		default:
		}
		e.Evaluate(context.Background(), minute(2), func(*Status) {})
	}
	var total float64
	e.Evaluate(context.Background(), minute(2), func(s *Status) { total += s.Windows[0].Total })
	t.Logf("%d evaluations ran beside the writers", evaluations)
	assert.Equal(t, float64(writers*perWriter+writers*(perWriter-1)), total, "every event and every cumulative increase counted once")
	assert.Equal(t, len(ins)+writers*perWriter/100, e.Len())
}

// A Prometheus-style histogram arrives as separate series: _count passes
// (count, count) and _bucket{le=threshold} passes (0, -good); the window
// then holds count - good bad events.
func TestPrometheusStyleHistogramSeries(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	counts := []float64{0, 100, 250, 30} // reset at minute 3
	goods := []float64{0, 90, 200, 20}
	for m := range counts {
		e.AddCumulative(in, 1, time.Time{}, minute(m), counts[m], counts[m])
		e.AddCumulative(in, 2, time.Time{}, minute(m), 0, -goods[m])
	}
	st := status(e, minute(3))
	assert.Equal(t, 100+150+30.0, st.Windows[0].Total)
	assert.Equal(t, 10+40+10.0, st.Windows[0].Bad, "(100-90) + (150-110) + (30-20)")
	assert.Equal(t, map[string]uint64{"counted": 4, "baselined": 2, "reset": 2, "duplicate": 0, "out_of_order": 0,
		"late": 0, "invalid": 0, "too_old": 0, "previous_period": 0}, e.Stats())
}

func TestInvalidValuesAreDropped(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	assert.Equal(t, Invalid, e.AddEvents(in, minute(1), math.NaN(), 0))
	assert.Equal(t, Invalid, e.AddCumulative(in, 1, time.Time{}, minute(1), math.Inf(1), 0))
	assert.Equal(t, Invalid, e.AddDelta(in, 1, time.Time{}, minute(1), 1, math.NaN()))
	st := status(e, minute(1))
	assert.True(t, st.Windows[0].NoData)
}
