package slo

import (
	"math"
	"time"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Tier resolutions. A window uses the finest tier that fits it: windows up
// to 6h use 1m slices, up to 3d 5m slices, longer ones (the period) coarse
// slices of at least 1h (period/720 rounded up to a whole hour), so one
// instance holds about 2,000 slices whatever its period.
const (
	fineRes   = time.Minute
	midRes    = 5 * time.Minute
	fineSpan  = 6 * time.Hour
	midSpan   = 72 * time.Hour
	maxCoarse = 720
	// futureTolerance is how far past the last evaluation (or advance) an
	// event may be stamped before the instance's windows are advanced to
	// the event's time first.
	futureTolerance = 10 * time.Minute
)

// tierSpec is a resolution and the number of slices kept.
type tierSpec struct {
	res   int64 // ns
	slots int64
}

// windowSpec is one window and the tier it reads.
type windowSpec struct {
	d    int64 // ns
	tier int
}

// layout is shared by every instance of one SLO.
type layout struct {
	tiers   []tierSpec
	windows []windowSpec
	byDur   map[time.Duration]int
	// tierWindows[t] lists the window indices on tier t.
	tierWindows [][]int
	// cal is the SLO's calendar period (nil: rolling); slices its time
	// slices (nil: occurrences). See period.go.
	cal    *spec.CalendarPeriod
	slices *sliceSpec
}

func resFor(d, period time.Duration) time.Duration {
	switch {
	case d <= fineSpan:
		return fineRes
	case d <= midSpan:
		return midRes
	}
	r := (period + maxCoarse - 1) / maxCoarse
	r = (r + time.Hour - 1) / time.Hour * time.Hour
	return r
}

// newLayout builds the tiers for a set of windows.
func newLayout(durs []time.Duration, period time.Duration) *layout {
	l := &layout{byDur: map[time.Duration]int{}}
	tierIdx := map[time.Duration]int{}
	for _, d := range durs {
		if _, ok := l.byDur[d]; ok {
			continue
		}
		res := resFor(d, period)
		ti, ok := tierIdx[res]
		if !ok {
			ti = len(l.tiers)
			tierIdx[res] = ti
			l.tiers = append(l.tiers, tierSpec{res: int64(res)})
			l.tierWindows = append(l.tierWindows, nil)
		}
		need := int64((d+res-1)/res) + int64((futureTolerance+res-1)/res) + 2
		if need > l.tiers[ti].slots {
			l.tiers[ti].slots = need
		}
		l.byDur[d] = len(l.windows)
		l.tierWindows[ti] = append(l.tierWindows[ti], len(l.windows))
		l.windows = append(l.windows, windowSpec{d: int64(d), tier: ti})
	}
	return l
}

// ring is one tier's slices: slot k covers event times in (k·res, (k+1)·res].
type ring struct {
	res int64
	// epoch[j] is the slice number held in slot j. Slice numbers of
	// int64 nanosecond times at resolutions of 1m or more fit in int32.
	epoch []int32
	total []float64
	bad   []float64
}

// winSum is the running sum of one window over slots [lo, ∞).
type winSum struct {
	lo         int64
	total, bad float64
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

func (r *ring) slotOf(ts int64) int64 { return floorDiv(ts-1, r.res) }

func (r *ring) index(k int64) int {
	n := int64(len(r.epoch))
	j := k % n
	if j < 0 {
		j += n
	}
	return int(j)
}

// get returns the sums of slot k, zero when the slot holds another epoch.
func (r *ring) get(k int64) (float64, float64) {
	j := r.index(k)
	if int64(r.epoch[j]) != k {
		return 0, 0
	}
	return r.total[j], r.bad[j]
}

// accounts holds the slices and window sums of one SLO instance.
type accounts struct {
	l     *layout
	rings []ring
	sums  []winSum
	// minLo[t] is the smallest window start on tier t: older events are
	// outside every window of the tier.
	minLo []int64
	// now is the time of the last advance (ns).
	now int64
	// events and badEvents count every accepted event since start.
	events, badEvents float64
	// cal is the calendar period's accumulator (nil: rolling period);
	// slices the time-slice verdicts (nil: occurrences).
	cal    *calAcc
	slices *sliceAcc
}

func newAccounts(l *layout, now int64) *accounts {
	a := &accounts{l: l, rings: make([]ring, len(l.tiers)), sums: make([]winSum, len(l.windows)), minLo: make([]int64, len(l.tiers))}
	for i, t := range l.tiers {
		a.rings[i] = ring{res: t.res, epoch: make([]int32, t.slots), total: make([]float64, t.slots), bad: make([]float64, t.slots)}
		for j := range a.rings[i].epoch {
			a.rings[i].epoch[j] = math.MinInt32
		}
	}
	for w, ws := range l.windows {
		a.sums[w].lo = ceilDiv(now-ws.d, l.tiers[ws.tier].res)
	}
	a.now = now
	a.updateMinLo()
	if l.cal != nil {
		a.cal = &calAcc{cal: l.cal}
		a.cal.roll(now)
	}
	if l.slices != nil {
		a.slices = newSliceAcc(l.slices, now)
	}
	return a
}

func (a *accounts) updateMinLo() {
	for t := range a.minLo {
		first := true
		for _, w := range a.l.tierWindows[t] {
			if first || a.sums[w].lo < a.minLo[t] {
				a.minLo[t] = a.sums[w].lo
				first = false
			}
		}
	}
}

// addResult says what happened to an event.
type addResult uint8

const (
	added addResult = iota
	tooOld
	// prevPeriod: added to the rolling windows, but stamped before the
	// current calendar period, so not counted in it.
	prevPeriod
)

// add puts an event batch stamped ts (ns) into its slices and windows.
// It never allocates.
func (a *accounts) add(ts int64, total, bad float64) addResult {
	if ts > a.now+int64(futureTolerance) {
		// The data is ahead of the last evaluation: time moved on.
		a.advance(ts)
	}
	res := tooOld
	for t := range a.rings {
		r := &a.rings[t]
		k := r.slotOf(ts)
		if k < a.minLo[t] {
			continue
		}
		j := r.index(k)
		if e := int64(r.epoch[j]); e != k {
			if e > k {
				// The slot holds newer data (the clock stepped back): the
				// event is too old for this tier.
				continue
			}
			r.epoch[j], r.total[j], r.bad[j] = int32(k), 0, 0
		}
		r.total[j] += total
		r.bad[j] += bad
		for _, w := range a.l.tierWindows[t] {
			if s := &a.sums[w]; k >= s.lo {
				s.total += total
				s.bad += bad
			}
		}
		res = added
	}
	if res == added {
		a.events += total
		a.badEvents += bad
		if a.cal != nil {
			res = a.addCalendar(ts, total, bad)
		}
	}
	return res
}

// addCalendar counts an added event batch in the calendar period (time
// slices count there when judged, see closeSlices).
func (a *accounts) addCalendar(ts int64, total, bad float64) addResult {
	if a.slices == nil {
		if !a.cal.add(ts, total, bad) {
			return prevPeriod
		}
	} else if ts < a.cal.start {
		return prevPeriod
	}
	return added
}

// advance moves every window to end at now (ns): slots that left a window
// are subtracted, slots that re-entered (clock stepped back) added.
func (a *accounts) advance(now int64) {
	a.now = now
	for w, ws := range a.l.windows {
		r := &a.rings[ws.tier]
		s := &a.sums[w]
		lo := ceilDiv(now-ws.d, r.res)
		n := int64(len(r.epoch))
		switch {
		case lo == s.lo:
		case lo-s.lo > n || s.lo-lo > n:
			s.lo = lo
			a.recompute(w)
		case lo > s.lo:
			for k := s.lo; k < lo; k++ {
				t, b := r.get(k)
				s.total -= t
				s.bad -= b
			}
			s.lo = lo
		default:
			for k := lo; k < s.lo; k++ {
				t, b := r.get(k)
				s.total += t
				s.bad += b
			}
			s.lo = lo
		}
	}
	a.updateMinLo()
	if a.slices != nil {
		a.closeSlices(now)
		a.slices.v.advance(now)
	}
	if a.cal != nil && now >= a.cal.end {
		a.cal.roll(now)
	}
}

// recompute rebuilds window w's sums from the slices.
func (a *accounts) recompute(w int) {
	r := &a.rings[a.l.windows[w].tier]
	s := &a.sums[w]
	s.total, s.bad = 0, 0
	for j, k := range r.epoch {
		if int64(k) >= s.lo {
			s.total += r.total[j]
			s.bad += r.bad[j]
		}
	}
}

// sizeBytes is the memory held by the slices and sums.
func (a *accounts) sizeBytes() int {
	n := 0
	for _, r := range a.rings {
		n += len(r.epoch) * 20
	}
	if a.slices != nil {
		n += a.slices.v.sizeBytes()
	}
	return n + len(a.sums)*24 + len(a.minLo)*8 + 160
}
