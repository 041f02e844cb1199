// Package slo is obsd's SLO engine core: exact streaming accounting of
// good and bad events into tiered time slices, ratio-of-sums windows, and
// multi-window multi-burn-rate alert evaluation with a small notifier
// interface. It has no collector imports; connectors/slo feeds it.
//
// Concurrency: every exported Engine method is safe for concurrent use;
// Instance handles are only used through the Engine.
package slo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Options tune an Engine. The zero value is usable.
type Options struct {
	// Notifier receives alert transitions after each evaluation; nil
	// discards them.
	Notifier Notifier
	// CountFrom: the first point of a cumulative series whose start time
	// is known and not before CountFrom counts in full; older starts only
	// set a baseline (their value holds events obsd never watched). Zero
	// counts every known start in full.
	CountFrom time.Time
	// ResolveRatio is the hysteresis on resolve: a firing alert resolves
	// only when no window pair reaches ResolveRatio × its factor
	// (default DefaultResolveRatio; 1 disables hysteresis).
	ResolveRatio float64
}

// DefaultResolveRatio is the default Options.ResolveRatio.
const DefaultResolveRatio = 0.9

// Engine holds every SLO instance and evaluates them.
type Engine struct {
	mu        sync.Mutex
	evalMu    sync.Mutex // serialises Evaluate; guards status and trans
	slos      []*sloDef
	byName    map[string]int
	instances []*Instance
	byGroup   map[groupKey]*Instance
	series    map[seriesKey]*seriesState
	countFrom int64
	resolve   float64
	notifier  Notifier
	stats     [numOutcomes]uint64
	// The journal (journal.go): the SLOs by name hash, the next sequence
	// number, the batches begun and not yet committed or aborted, and the
	// mark of the restored snapshot.
	byNameHash map[uint64]int
	jnext      uint64
	inflight   []uint64
	mark       JournalMark
	// reused per evaluation, guarded by evalMu
	status Status
	trans  []contract.Transition
	extra  []WindowResult // Status.Extra's backing array
}

type groupKey struct {
	slo  int
	hash uint64
}

// Instance is one SLO for one group of its group-by attributes.
type Instance struct {
	id    uint32
	slo   *sloDef
	group map[string]string
	hash  uint64
	// service is the instance's service: its group's LabelService value
	// when grouped by it (discovered SLOs), else the SLO's.
	service string
	// overflow: the instance of the value sets beyond the group_by cap.
	overflow bool
	acc      *accounts
	// created is when the instance began counting (ns), kept by snapshots.
	created int64
	// durable is (events, bad events) as of the last snapshot written or
	// restored (Status.DurableEvents).
	durable [2]float64
	alerts  [2]alertState
	// labels[sev] are the alert labels per severity (SLO, group,
	// alerting and severity labels).
	labels [2]map[string]string
	// journaled: a durable journal record defined the instance since the
	// last snapshot, so later records need not repeat its group labels.
	journaled atomic.Bool
}

// NewEngine validates nothing further (specs come from formats.Load) and
// builds an engine for the SLOs; instances are created on demand.
func NewEngine(slos []*spec.SLO, opts Options) (*Engine, error) {
	e := &Engine{byName: map[string]int{}, byGroup: map[groupKey]*Instance{}, series: map[seriesKey]*seriesState{},
		byNameHash: map[uint64]int{}, resolve: opts.ResolveRatio, notifier: opts.Notifier}
	if e.resolve == 0 {
		e.resolve = DefaultResolveRatio
	}
	if e.resolve < 0 || e.resolve > 1 {
		return nil, fmt.Errorf("'resolve_ratio' must be in (0, 1], got %v", e.resolve)
	}
	if !opts.CountFrom.IsZero() {
		e.countFrom = opts.CountFrom.UnixNano()
	}
	var errList []error
	for i, s := range slos {
		if _, dup := e.byName[s.Name]; dup {
			errList = append(errList, fmt.Errorf("slo %q is declared twice", s.Name))
			continue
		}
		if !(s.Objective > 0 && s.Objective < 1) || s.Period <= 0 {
			errList = append(errList, fmt.Errorf("slo %q: objective must be in (0,1) and period positive", s.Name))
			continue
		}
		if err := checkPeriodKind(s); err != nil {
			errList = append(errList, fmt.Errorf("slo %q: %w", s.Name, err))
			continue
		}
		d := newSLODef(i, s)
		if other, dup := e.byNameHash[d.nameHash]; dup {
			errList = append(errList, fmt.Errorf("slos %q and %q have names whose 64-bit hashes collide; rename one", e.slos[other].spec.Name, s.Name))
			continue
		}
		e.byName[s.Name] = len(e.slos)
		e.byNameHash[d.nameHash] = len(e.slos)
		e.slos = append(e.slos, d)
	}
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	return e, nil
}

// SLOIndex returns the index of the named SLO, for Instance.
func (e *Engine) SLOIndex(name string) (int, bool) {
	i, ok := e.byName[name]
	return i, ok
}

// SLOs returns the specs in engine order.
func (e *Engine) SLOs() []*spec.SLO {
	out := make([]*spec.SLO, len(e.slos))
	for i, d := range e.slos {
		out[i] = d.spec
	}
	return out
}

// Instance returns the instance of SLO slo for the group whose hash is
// groupHash (HashSeed for an SLO without group_by), creating it at now
// with the group's attribute values when it does not exist yet. group is
// only read on creation; pass a function so the hot path builds no map
// (nil for an SLO without group_by).
//
// Cap: a grouped SLO creates at most its spec.SLO.Limit() instances; a
// new value set beyond it gets the SLO's single overflow instance (every
// group label "__overflow__", Overflow() true), created on first use.
// Instances are never evicted, so label churn never resets one's history.
func (e *Engine) Instance(slo int, groupHash uint64, group func() map[string]string, now time.Time) *Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	if in, ok := e.byGroup[groupKey{slo: slo, hash: groupHash}]; ok {
		return in
	}
	if d := e.slos[slo]; group != nil && d.grouped >= d.spec.Limit() {
		if in, ok := e.byGroup[groupKey{slo: slo, hash: OverflowHash}]; ok {
			return in
		}
		return e.instanceLocked(slo, OverflowHash, e.overflowGroup(slo), now.UnixNano())
	}
	return e.instanceLocked(slo, groupHash, group, now.UnixNano())
}

// OverflowValue is the value of every group label of an overflow instance.
const OverflowValue = "__overflow__"

// OverflowHash is the group hash of overflow instances.
var OverflowHash = HashString(HashSeed, "\x00"+OverflowValue)

func (e *Engine) overflowGroup(slo int) func() map[string]string {
	return func() map[string]string {
		names := e.slos[slo].spec.GroupBy()
		m := make(map[string]string, len(names))
		for _, n := range names {
			m[n] = OverflowValue
		}
		return m
	}
}

// Overflow reports whether in is its SLO's overflow instance.
func (in *Instance) Overflow() bool { return in.overflow }

func (e *Engine) instanceLocked(slo int, groupHash uint64, group func() map[string]string, now int64) *Instance {
	k := groupKey{slo: slo, hash: groupHash}
	if in, ok := e.byGroup[k]; ok {
		return in
	}
	d := e.slos[slo]
	var g map[string]string
	if group != nil {
		g = group()
	}
	in := &Instance{id: uint32(len(e.instances)), slo: d, group: g, hash: groupHash, service: d.spec.Service,
		acc: newAccounts(d.layout, now), created: now}
	if v := g[contract.LabelService]; v != "" {
		in.service = v
	}
	switch {
	case groupHash == OverflowHash:
		in.overflow = true
	case g != nil:
		d.grouped++ // restored instances count even beyond a lowered cap
	}
	for sev := range in.labels {
		in.labels[sev] = d.alertLabels(sev, g)
	}
	e.instances = append(e.instances, in)
	e.byGroup[k] = in
	return in
}

// AddEvents adds total events of which bad are bad, stamped ts: one span
// is AddEvents(in, end, 1, 0 or 1); a delta sum point may use it too
// when it needs no duplicate detection. It never allocates.
func (e *Engine) AddEvents(in *Instance, ts time.Time, total, bad float64) Outcome {
	e.mu.Lock()
	o := Invalid
	if valid(total, bad) {
		o = fromAdd(in.acc.add(ts.UnixNano(), total, bad), Counted)
	}
	e.stats[o]++
	e.mu.Unlock()
	return o
}

// AddCumulative accounts one cumulative point of the series hashed
// seriesHash: total and bad are the series' cumulative contributions
// (a total-only counter passes (v, 0), a bad-only one (0, v), a series
// matching both (v, v); a histogram (count, count above threshold)).
// start is the series' start time (zero when unknown). It never
// allocates once the series is known.
func (e *Engine) AddCumulative(in *Instance, seriesHash uint64, start, ts time.Time, total, bad float64) Outcome {
	st := unixNanoOrZero(start)
	e.mu.Lock()
	o := e.cumulative(in, seriesHash, st, ts.UnixNano(), total, bad, e.countFrom)
	e.stats[o]++
	e.mu.Unlock()
	return o
}

// AddDelta accounts one delta point of a series (duplicates detected).
func (e *Engine) AddDelta(in *Instance, seriesHash uint64, start, ts time.Time, total, bad float64) Outcome {
	st := unixNanoOrZero(start)
	e.mu.Lock()
	o := e.delta(in, seriesHash, st, ts.UnixNano(), total, bad)
	e.stats[o]++
	e.mu.Unlock()
	return o
}

// unixNanoOrZero is t in Unix nanoseconds, 0 for the zero time (a start
// time that is not known).
func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Stats returns how many points ended with each Outcome, by its String.
func (e *Engine) Stats() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := make(map[string]uint64, numOutcomes)
	for o := Outcome(0); o < numOutcomes; o++ {
		m[o.String()] = e.stats[o]
	}
	return m
}

// ForgetSeries drops the delta state of series whose last point is older
// than before; call it now and then so dead series do not pile up.
func (e *Engine) ForgetSeries(before time.Time) int {
	b := before.UnixNano()
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for k, s := range e.series {
		if s.last < b {
			delete(e.series, k)
			n++
		}
	}
	return n
}

// InstanceBytes is the memory one instance of the named SLO holds in its
// slices (what the 64 KiB budget is about).
func (e *Engine) InstanceBytes(slo int) int {
	return newAccounts(e.slos[slo].layout, 0).sizeBytes()
}

// Evaluate advances every instance to now, computes its Status and alert
// states, calls fn (may be nil) with each Status (valid only during the
// call: it is reused), and hands the transitions, if any, to the
// Notifier in one call. The engine lock is taken per instance, so
// concurrent Add* calls wait at most one instance's evaluation; fn and
// the Notifier run without it. Concurrent Evaluate calls are serialised.
func (e *Engine) Evaluate(ctx context.Context, now time.Time, fn func(*Status)) {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	e.mu.Lock()
	instances := e.instances // append-only: this prefix stays valid
	e.mu.Unlock()
	e.trans = e.trans[:0]
	t := now.UnixNano()
	for _, in := range instances {
		e.mu.Lock()
		e.evaluate(in, t, now)
		e.mu.Unlock()
		if fn != nil {
			fn(&e.status)
		}
	}
	if len(e.trans) > 0 && e.notifier != nil {
		e.notifier.Notify(ctx, append([]contract.Transition(nil), e.trans...))
	}
}

// Len returns the number of SLO instances.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.instances)
}
