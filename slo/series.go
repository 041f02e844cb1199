package slo

import "math"

// seriesKey identifies one input series of one instance: the connector
// hashes resource, scope, metric name and attributes once per point
// without building strings (see HashString).
type seriesKey struct {
	inst uint32
	hash uint64
}

// seriesState is the last point seen of a series.
type seriesState struct {
	start, last int64
	total, bad  float64
}

// Outcome says how a data point was accounted.
type Outcome uint8

// Outcomes of AddCumulative, AddDelta and AddEvents.
const (
	// Counted: the point's events were added.
	Counted Outcome = iota
	// Baselined: the first point of a series with unknown start time
	// only sets the baseline (its value may include events from before
	// obsd watched).
	Baselined
	// Reset: a counter reset or a new start time; the point's value was
	// counted in full.
	Reset
	// Duplicate: a point with the timestamp of the previous one; dropped.
	Duplicate
	// OutOfOrder: a cumulative point older than the last one; dropped,
	// since the newer point already carried its increase. (Late delta
	// points are placed in their slice and reported as Counted.)
	OutOfOrder
	// Late: a delta point older than the series' last one; counted in the
	// slice of its own timestamp.
	Late
	// Invalid: a NaN or infinite value (e.g. a Prometheus staleness
	// marker); dropped without touching the series' state.
	Invalid
	// TooOld: the point is older than every window; dropped.
	TooOld
	// PreviousPeriod: the point is stamped before the current calendar
	// period (late data): it counts in the rolling alert windows but not
	// in the period's error budget.
	PreviousPeriod
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"counted", "baselined", "reset", "duplicate", "out_of_order", "late", "invalid", "too_old", "previous_period"}

// String returns the outcome's metric label value.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

func fromAdd(r addResult, ok Outcome) Outcome {
	switch r {
	case tooOld:
		return TooOld
	case prevPeriod:
		return PreviousPeriod
	}
	return ok
}

// HashString folds s into an FNV-1a hash h (start with HashSeed); the
// connector uses it to build series and group hashes without allocating.
func HashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= 0xff // separator, so ("ab","c") and ("a","bc") differ
	h *= 1099511628211
	return h
}

// HashSeed is the FNV-1a offset basis to start HashString with.
const HashSeed uint64 = 14695981039346656037

// cumulative turns one cumulative point (start and ts in ns, start 0 when
// unknown) into a delta per the OTel data model and adds it. countFrom is
// Options.CountFrom of the engine that first saw the point (a replayed
// point keeps its own).
func (e *Engine) cumulative(in *Instance, hash uint64, start, ts int64, total, bad float64, countFrom int64) Outcome {
	if !valid(total, bad) {
		return Invalid
	}
	k := seriesKey{inst: in.id, hash: hash}
	s := e.series[k]
	if s == nil {
		e.series[k] = &seriesState{start: start, last: ts, total: total, bad: bad}
		if start > 0 && start <= ts && start >= countFrom {
			return fromAdd(in.acc.add(ts, total, bad), Counted)
		}
		return Baselined
	}
	switch {
	case start != s.start && start > s.start:
		// A new start time: the series restarted, its value counts in full.
		*s = seriesState{start: start, last: ts, total: total, bad: bad}
		return fromAdd(in.acc.add(ts, total, bad), Reset)
	case start != s.start || ts < s.last:
		return OutOfOrder
	case ts == s.last:
		return Duplicate
	}
	prev := *s
	*s = seriesState{start: start, last: ts, total: total, bad: bad}
	if total < prev.total || abs(bad) < abs(prev.bad) {
		// A reset without a new start time (Prometheus semantics).
		return fromAdd(in.acc.add(ts, total, bad), Reset)
	}
	return fromAdd(in.acc.add(ts, total-prev.total, bad-prev.bad), Counted)
}

// delta adds one delta point; a point repeating the previous timestamp
// and start of its series is a duplicate.
func (e *Engine) delta(in *Instance, hash uint64, start, ts int64, total, bad float64) Outcome {
	if !valid(total, bad) {
		return Invalid
	}
	k := seriesKey{inst: in.id, hash: hash}
	s := e.series[k]
	out := Counted
	switch {
	case s == nil:
		e.series[k] = &seriesState{start: start, last: ts}
	case s.start == start && s.last == ts:
		return Duplicate
	case ts > s.last:
		s.start, s.last = start, ts
	default:
		out = Late
	}
	return fromAdd(in.acc.add(ts, total, bad), out)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// valid is false for NaN and infinite values.
func valid(total, bad float64) bool {
	return abs(total) <= math.MaxFloat64 && abs(bad) <= math.MaxFloat64
}
