package slo

import (
	"fmt"
	"time"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Calendar periods and time slices.
//
// A calendar SLO keeps, besides its rolling slices, one accumulator for
// the current calendar period [start, end) in its time zone: events (or,
// with time slices, slice verdicts) stamped inside it are summed; an event
// stamped at or after end rolls the accumulator to the period containing
// it (the budget resets); an event stamped before start belongs to a
// previous period and only counts in the rolling alert windows
// (Outcome PreviousPeriod).
//
// A time-slice SLO cuts time into slices of SliceWindow aligned to the
// Unix epoch (so to every hour). Once a slice has settled (sliceSettle
// after its end) its events are read from the 1m tier and it becomes one
// verdict: total 1, bad 1 when its good ratio is under SliceTarget
// (Timeslices) or bad = its error ratio (RatioTimeslices); slices without
// events give no verdict. Verdicts go into their own coarse slices (a
// rolling period window) or the calendar accumulator, so the period's
// ratio, burn rate and budget remaining are counted in slices. The alert
// windows keep counting events.

// sliceSettle is how long after its end a time slice is judged: data
// points stamped in a slice may arrive up to about one scrape or export
// interval later. Events arriving after that still count in the alert
// windows but no longer change the slice's verdict.
const sliceSettle = 2 * time.Minute

// sliceSpec is the layout's view of an SLO's time slices.
type sliceSpec struct {
	w       int64 // slice window, ns
	perFine int64 // 1m slots per slice
	target  float64
	ratio   bool // RatioTimeslices
	fine    int  // index of the 1m tier
	verdict *layout
}

// calAcc is the current calendar period's accumulator.
type calAcc struct {
	cal        *spec.CalendarPeriod
	start, end int64 // ns, [start, end)
	total, bad float64
}

// roll moves the accumulator to the calendar period containing ts and
// empties it: the error budget resets.
func (c *calAcc) roll(ts int64) {
	s, e := c.cal.Bounds(time.Unix(0, ts))
	c.start, c.end = s.UnixNano(), e.UnixNano()
	c.total, c.bad = 0, 0
}

// add counts an event batch stamped ts; false when ts is in an earlier
// period (nothing counted).
func (c *calAcc) add(ts int64, total, bad float64) bool {
	if ts >= c.end {
		c.roll(ts)
	}
	if ts < c.start {
		return false
	}
	c.total += total
	c.bad += bad
	return true
}

// sliceAcc holds the verdicts of closed time slices.
type sliceAcc struct {
	sp *sliceSpec
	// closed is the number of the last judged slice (slice j covers
	// (j·w, (j+1)·w]).
	closed int64
	// v holds the verdicts in the period's coarse slices, with one
	// window: the rolling period.
	v *accounts
}

func newSliceAcc(sp *sliceSpec, now int64) *sliceAcc {
	// Slices still in the 1m tier are judged at the first advance, so
	// events stamped shortly before the instance was created count.
	return &sliceAcc{sp: sp, closed: floorDiv(now-int64(fineSpan), sp.w), v: newAccounts(sp.verdict, now)}
}

// closeSlices judges every slice that settled by now, oldest first, and hands
// each verdict to the calendar accumulator when there is one.
func (a *accounts) closeSlices(now int64) {
	s := a.slices
	sp := s.sp
	last := floorDiv(now-int64(sliceSettle), sp.w) - 1 // slice (last·w, (last+1)·w] ended sliceSettle ago
	r := &a.rings[sp.fine]
	if oldest := floorDiv(int64(len(r.epoch))*r.res, sp.w); s.closed < last-oldest {
		s.closed = last - oldest // older slices are no longer in the 1m tier
	}
	for j := s.closed + 1; j <= last; j++ {
		var total, bad float64
		for k := j * sp.perFine; k < (j+1)*sp.perFine; k++ {
			t, b := r.get(k)
			total += t
			bad += b
		}
		if !(total > 0) {
			continue // a slice without events is ignored
		}
		ratio, _, _ := windowResult(total, bad, 1)
		v := ratio
		if !sp.ratio {
			v = 0
			if 1-ratio < sp.target*(1-1e-12) {
				v = 1
			}
		}
		ts := (j+1)*sp.w - 1 // the slice's last instant
		if a.cal != nil && !a.cal.add(ts, 1, v) {
			continue
		}
		s.v.add(ts, 1, v)
	}
	if last > s.closed {
		s.closed = last
	}
}

// periodSums returns what the period window reports: events (or slice
// verdicts) of the rolling period, or of the current calendar period.
func (a *accounts) periodSums(periodWindow int) (total, bad float64) {
	switch {
	case a.cal != nil:
		return a.cal.total, a.cal.bad
	case a.slices != nil:
		s := a.slices.v.sums[0]
		return s.total, s.bad
	}
	s := a.sums[periodWindow]
	return s.total, s.bad
}

// sumSince sums the slices of tier t that lie wholly at or after start:
// it rebuilds a calendar accumulator that a snapshot did not hold.
func (a *accounts) sumSince(t int, start int64) (total, bad float64) {
	r := &a.rings[t]
	first := ceilDiv(start, r.res) // slot k covers (k·res, (k+1)·res]
	for j, k := range r.epoch {
		if int64(k) >= first {
			total += r.total[j]
			bad += r.bad[j]
		}
	}
	return total, bad
}

// rebuildCalendar fills the calendar accumulator from the slices, for a
// snapshot written without it (an older obsd, or the SLO's period kind
// changed): from the finest tier whose windows reach back to the
// period's start (else the period window's tier); the slice straddling
// the start is left out.
func (a *accounts) rebuildCalendar(periodWindow int) {
	c := a.cal
	if a.slices != nil {
		c.total, c.bad = a.slices.v.sumSince(0, c.start)
		return
	}
	best := a.l.windows[periodWindow].tier
	for t, r := range a.rings {
		if a.minLo[t]*r.res <= c.start && r.res < a.rings[best].res {
			best = t
		}
	}
	c.total, c.bad = a.sumSince(best, c.start)
}

// periodBounds returns the reported period [start, end): the calendar
// period, or (now − period, now] for a rolling one.
func (in *Instance) periodBounds(now time.Time) (time.Time, time.Time) {
	if c := in.acc.cal; c != nil {
		return time.Unix(0, c.start).UTC(), time.Unix(0, c.end).UTC()
	}
	return now.Add(-in.slo.spec.Period), now
}

// exhaustion is how long the remaining budget lasts at burn rate burn;
// for a calendar period, −1 when it lasts until the period resets.
func (in *Instance) exhaustion(remaining, burn float64, now time.Time) time.Duration {
	c := in.acc.cal
	if c == nil {
		return exhaustion(remaining, burn, in.slo.spec.Period)
	}
	d := exhaustion(remaining, burn, time.Duration(c.end-c.start))
	if d > 0 && now.UnixNano()+int64(d) >= c.end {
		return -1
	}
	return d
}

// checkPeriodKind rejects calendar and budgeting settings the engine
// cannot run (formats.Load already refuses them; this guards other callers,
// such as importers that build spec.SLO themselves).
func checkPeriodKind(s *spec.SLO) error {
	if c := s.Calendar; c != nil {
		switch c.Unit {
		case spec.CalendarWeek, spec.CalendarMonth, spec.CalendarQuarter:
		default:
			return fmt.Errorf("calendar unit %q is not week, month or quarter", c.Unit)
		}
	}
	b := s.Budgeting
	switch b.Method {
	case spec.Occurrences:
		return nil
	case spec.Timeslices:
		if !(b.SliceTarget > 0 && b.SliceTarget <= 1) {
			return fmt.Errorf("time slice target %v is not in (0, 1]", b.SliceTarget)
		}
	case spec.RatioTimeslices:
	default:
		return fmt.Errorf("budgeting method %q is not occurrences, timeslices or ratio_timeslices", b.Method)
	}
	if b.SliceWindow < fineRes || b.SliceWindow%fineRes != 0 || b.SliceWindow > s.Period {
		return fmt.Errorf("time slice window %s is not a whole number of minutes up to the period", b.SliceWindow)
	}
	return nil
}

// newPeriodLayout adds the calendar and time-slice parts of s to l.
func newPeriodLayout(l *layout, s *spec.SLO) {
	l.cal = s.Calendar
	b := s.Budgeting
	if b.Method != spec.Timeslices && b.Method != spec.RatioTimeslices || b.SliceWindow < fineRes {
		return
	}
	sp := &sliceSpec{w: int64(b.SliceWindow), perFine: int64(b.SliceWindow / fineRes), target: b.SliceTarget,
		ratio: b.Method == spec.RatioTimeslices, fine: -1}
	for t, ts := range l.tiers {
		if ts.res == int64(fineRes) {
			sp.fine = t
		}
	}
	if sp.fine < 0 {
		return // no 1m tier: cannot happen, the 5m report window uses it
	}
	sp.verdict = newLayout([]time.Duration{s.Period}, s.Period)
	l.slices = sp
}
