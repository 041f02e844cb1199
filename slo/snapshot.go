package slo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/obsd-dev/obsd/internal/atomicfile"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// SnapshotVersion is the version of the snapshot format written.
const SnapshotVersion = 1

// maxSnapshotSize bounds what RestoreSnapshot reads.
const maxSnapshotSize = 1 << 30

// snapshot is the on-disk format (JSON): the slices, counters and alert
// states of every instance, and the last point of every input series.
type snapshot struct {
	Version   int            `json:"version"`
	Written   time.Time      `json:"written"`
	Instances []snapInstance `json:"instances"`
	Series    []snapSeries   `json:"series,omitempty"`
	// Journal says which journal records the snapshot holds (absent when
	// no batch was ever begun): replay skips them.
	Journal *JournalMark `json:"journal,omitempty"`
}

type snapInstance struct {
	SLO       string            `json:"slo"`
	Group     map[string]string `json:"group,omitempty"`
	Hash      uint64            `json:"hash"`
	Now       int64             `json:"now"`
	Events    float64           `json:"events"`
	BadEvents float64           `json:"bad_events"`
	// Created is when the instance began counting (ns; absent in snapshots
	// of older versions: the restore time is used).
	Created int64 `json:"created,omitempty"`
	// Durable carries the durable counters from one engine to another
	// (Adopt); never written to disk, where the file itself is durable.
	Durable *[2]float64  `json:"durable,omitempty"`
	Tiers   []snapTier   `json:"tiers"`
	Alerts  [2]snapAlert `json:"alerts"`
	// Period is the calendar period's accumulator (calendar SLOs; absent
	// in snapshots of older versions: rebuilt from the slices).
	Period *snapPeriod `json:"period,omitempty"`
	// Slices are the time-slice verdicts (timeslice SLOs).
	Slices *snapSlices `json:"slices,omitempty"`
}

type snapPeriod struct {
	Start int64   `json:"start"`
	End   int64   `json:"end"`
	Total float64 `json:"total"`
	Bad   float64 `json:"bad"`
	// SliceWindow is the time-slice window the sums count (0: events).
	SliceWindow int64 `json:"slice_window,omitempty"`
}

type snapSlices struct {
	Window  int64    `json:"window"`
	Closed  int64    `json:"closed"`
	Verdict snapTier `json:"verdict"`
}

// snapTier holds the slices First, First+1, ... of one tier as two
// parallel arrays (empty slices are zeros): compact for busy instances.
type snapTier struct {
	Res   int64     `json:"res"`
	First int64     `json:"first"`
	Total []float64 `json:"total"`
	Bad   []float64 `json:"bad"`
}

type snapAlert struct {
	State        AlertState `json:"state"`
	PendingSince int64      `json:"pending_since,omitempty"`
	ActiveSince  int64      `json:"active_since,omitempty"`
	// PairSince is alertState.pairSince (absent in snapshots of obsd
	// before per-pair 'for': such pairs count from PendingSince).
	PairSince []int64 `json:"pair_since,omitempty"`
}

type snapSeries struct {
	Inst  int     `json:"inst"`
	Hash  uint64  `json:"hash"`
	Start int64   `json:"start"`
	Last  int64   `json:"last"`
	Total float64 `json:"total"`
	Bad   float64 `json:"bad"`
}

// WriteSnapshot writes the engine's state to path atomically (temporary
// file in the same directory, fsync, rename, fsync of the directory; see
// internal/atomicfile), readable by obsd's user only.
//
// Once the file is in place, the counters it holds become the instances'
// durable counters (Status.DurableEvents).
func (e *Engine) WriteSnapshot(path string, now time.Time) error {
	_, err := e.Checkpoint(path, now)
	return err
}

// Checkpoint is WriteSnapshot returning the journal mark the snapshot
// holds: once it returned, the journal records the mark covers may be
// deleted. Once the file is in place, the counters it holds become the
// instances' durable counters.
func (e *Engine) Checkpoint(path string, now time.Time) (JournalMark, error) {
	data, written, mark, err := e.encodeSnapshot(now, false)
	if err != nil {
		return JournalMark{}, fmt.Errorf("could not encode slo snapshot: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return JournalMark{}, fmt.Errorf("could not write slo snapshot %s: %w", path, err)
	}
	e.mu.Lock()
	for i, d := range written {
		e.instances[i].durable = d
	}
	e.mu.Unlock()
	return mark, nil
}

// encodeSnapshot encodes the state and returns, per instance in order,
// the counters it holds, and the journal mark it holds. adopt carries the
// durable counters along (for Adopt; a file on disk is durable itself).
func (e *Engine) encodeSnapshot(now time.Time, adopt bool) ([]byte, [][2]float64, JournalMark, error) {
	e.mu.Lock()
	s := snapshot{Version: SnapshotVersion, Written: now.UTC(), Instances: make([]snapInstance, 0, len(e.instances))}
	written := make([][2]float64, 0, len(e.instances))
	mark := JournalMark{Next: e.jnext, Pending: slices.Clone(e.inflight)}
	if e.jnext > 0 {
		s.Journal = &mark
	}
	for _, in := range e.instances {
		si := snapInstance{SLO: in.slo.spec.Name, Group: in.group, Hash: in.hash, Now: in.acc.now,
			Events: in.acc.events, BadEvents: in.acc.badEvents, Created: in.created}
		if adopt {
			d := in.durable
			si.Durable = &d
		}
		written = append(written, [2]float64{in.acc.events, in.acc.badEvents})
		for t := range in.acc.rings {
			r := &in.acc.rings[t]
			si.Tiers = append(si.Tiers, encodeTier(r, in.acc.minLo[t]))
		}
		for i, a := range in.alerts {
			si.Alerts[i] = snapAlert{State: a.state, PendingSince: a.pendingSince, ActiveSince: a.activeSince, PairSince: slices.Clone(a.pairSince)}
		}
		encodePeriod(in.acc, &si)
		s.Instances = append(s.Instances, si)
		// The snapshot holds the instance: journal records written after
		// it may name it without its labels only once one defined it.
		in.journaled.Store(false)
	}
	for k, v := range e.series {
		s.Series = append(s.Series, snapSeries{Inst: int(k.inst), Hash: k.hash, Start: v.start, Last: v.last, Total: v.total, Bad: v.bad})
	}
	e.mu.Unlock()
	data, err := json.Marshal(&s)
	return data, written, mark, err
}

// encodeTier keeps the slices from minLo to the newest one written.
func encodeTier(r *ring, minLo int64) snapTier {
	st := snapTier{Res: r.res, First: minLo}
	last := minLo - 1
	for _, k := range r.epoch {
		if int64(k) > last {
			last = int64(k)
		}
	}
	if n := int64(len(r.epoch)); last > minLo+n-1 {
		last = minLo + n - 1 // never more than one ring's worth
	}
	for k := minLo; k <= last; k++ {
		t, b := r.get(k)
		st.Total = append(st.Total, t)
		st.Bad = append(st.Bad, b)
	}
	return st
}

// RestoreSnapshot loads the state written by WriteSnapshot; call it
// before feeding data. A missing file is not an error (fresh start). A
// corrupt or unreadable file is renamed to "<path>.corrupt-<time>" and
// the error returned for logging; the engine then starts fresh. Instances
// of SLOs no longer declared, and those of services a discovered SLO
// (spec.SpanSLI.AnyService) now excepts, are skipped; slices are kept for
// tiers whose resolution is unchanged.
func (e *Engine) RestoreSnapshot(path string, now time.Time) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("could not open slo snapshot: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSnapshotSize+1))
	_ = f.Close()
	var s *snapshot
	if err == nil {
		s, err = decodeSnapshot(data)
	}
	if err != nil {
		aside := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
		if rerr := os.Rename(path, aside); rerr != nil {
			return fmt.Errorf("slo snapshot %s is unreadable (%w) and could not be moved aside: %w", path, err, rerr)
		}
		return fmt.Errorf("slo snapshot %s is unreadable, moved to %s, starting fresh: %w", path, aside, err)
	}
	e.mu.Lock()
	e.restore(s, now, false)
	e.mu.Unlock()
	return nil
}

// decodeSnapshot parses and checks a snapshot; it never panics.
func decodeSnapshot(data []byte) (*snapshot, error) {
	if len(data) > maxSnapshotSize {
		return nil, fmt.Errorf("snapshot larger than %d bytes", maxSnapshotSize)
	}
	var s snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("invalid snapshot: %w", err)
	}
	if s.Version != SnapshotVersion {
		return nil, fmt.Errorf("snapshot version %d, want %d", s.Version, SnapshotVersion)
	}
	finite := func(fs ...float64) bool {
		for _, f := range fs {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return false
			}
		}
		return true
	}
	for i, in := range s.Instances {
		if !finite(in.Events, in.BadEvents) || (in.Durable != nil && !finite(in.Durable[0], in.Durable[1])) {
			return nil, fmt.Errorf("instance %d: counters not finite", i)
		}
		tiers := in.Tiers
		if in.Slices != nil {
			tiers = append(tiers[:len(tiers):len(tiers)], in.Slices.Verdict)
		}
		if p := in.Period; p != nil && !finite(p.Total, p.Bad) {
			return nil, fmt.Errorf("instance %d: period counters not finite", i)
		}
		for _, t := range tiers {
			if t.Res <= 0 {
				return nil, fmt.Errorf("instance %d: tier resolution %d", i, t.Res)
			}
			if len(t.Total) != len(t.Bad) {
				return nil, fmt.Errorf("instance %d: tier %d has %d totals but %d bad counts", i, t.Res, len(t.Total), len(t.Bad))
			}
			if !finite(t.Total...) || !finite(t.Bad...) {
				return nil, fmt.Errorf("instance %d: tier %d holds a value that is not finite", i, t.Res)
			}
		}
		for _, a := range in.Alerts {
			if a.State > Resolved {
				return nil, fmt.Errorf("instance %d: alert state %d", i, a.State)
			}
		}
	}
	for i, se := range s.Series {
		if se.Inst < 0 || se.Inst >= len(s.Instances) || !finite(se.Total, se.Bad) {
			return nil, fmt.Errorf("series %d: bad instance index or value", i)
		}
	}
	return &s, nil
}

// restore applies a decoded snapshot; e.mu is held. A snapshot read from
// disk makes its counters durable; an adopted one carries its own.
func (e *Engine) restore(s *snapshot, now time.Time, adopt bool) {
	ids := make([]*Instance, len(s.Instances))
	for i, si := range s.Instances {
		slo, ok := e.byName[si.SLO]
		if !ok || excepted(e.slos[slo].spec, si.Group) {
			continue
		}
		group := si.Group
		in := e.instanceLocked(slo, si.Hash, func() map[string]string { return group }, si.Now)
		in.acc = newAccounts(in.slo.layout, si.Now)
		in.acc.events, in.acc.badEvents = si.Events, si.BadEvents
		in.durable = [2]float64{si.Events, si.BadEvents}
		if adopt && si.Durable != nil {
			in.durable = *si.Durable
		}
		in.created = si.Created
		if in.created <= 0 {
			in.created = now.UnixNano()
		}
		restoreTiers(in.acc, si.Tiers)
		restorePeriod(in.acc, &si, in.slo.report[WindowPeriod])
		for k, a := range si.Alerts {
			in.alerts[k] = alertState{state: a.State, pendingSince: a.PendingSince, activeSince: a.ActiveSince, pairSince: a.PairSince}
		}
		ids[i] = in
	}
	for _, se := range s.Series {
		if in := ids[se.Inst]; in != nil {
			e.series[seriesKey{inst: in.id, hash: se.Hash}] = &seriesState{start: se.Start, last: se.Last, total: se.Total, bad: se.Bad}
		}
	}
	if s.Journal != nil {
		e.mark = *s.Journal
		e.jnext = max(e.jnext, s.Journal.Next)
	}
}

// excepted reports whether a saved instance of an AnyService SLO is of a
// service it no longer counts (one that has SLOs of its own now).
func excepted(s *spec.SLO, group map[string]string) bool {
	sli := s.SLI.Spans
	return sli != nil && sli.AnyService && slices.Contains(sli.ExceptServices, group[contract.LabelService])
}

// restoreTiers puts the slices of the tiers whose resolution is unchanged
// back into a's rings and recomputes its window sums.
func restoreTiers(a *accounts, tiers []snapTier) {
	for t := range a.rings {
		r := &a.rings[t]
		for _, st := range tiers {
			if st.Res != r.res {
				continue
			}
			for i := range st.Total {
				k := st.First + int64(i)
				if k < a.minLo[t] || k >= a.minLo[t]+int64(len(r.epoch)) {
					continue // outside what the ring can hold now
				}
				if j := r.index(k); int64(r.epoch[j]) <= k && (st.Total[i] != 0 || st.Bad[i] != 0) {
					r.epoch[j], r.total[j], r.bad[j] = int32(k), st.Total[i], st.Bad[i]
				}
			}
		}
	}
	for w := range a.sums {
		a.recompute(w)
	}
}

// encodePeriod saves the calendar accumulator and the time-slice verdicts.
func encodePeriod(a *accounts, si *snapInstance) {
	if c := a.cal; c != nil {
		si.Period = &snapPeriod{Start: c.start, End: c.end, Total: c.total, Bad: c.bad}
		if a.slices != nil {
			si.Period.SliceWindow = a.slices.sp.w
		}
	}
	if s := a.slices; s != nil {
		si.Slices = &snapSlices{Window: s.sp.w, Closed: s.closed, Verdict: encodeTier(&s.v.rings[0], s.v.minLo[0])}
	}
}

// restorePeriod restores what encodePeriod saved when the SLO's period
// kind is unchanged. Verdicts of another slice window are dropped (the
// slices still in the 1m tier are judged again); a calendar accumulator
// of another period (or none: an older snapshot) is rebuilt from the
// slices.
func restorePeriod(a *accounts, si *snapInstance, periodWindow int) {
	if s, ss := a.slices, si.Slices; s != nil && ss != nil && ss.Window == s.sp.w {
		// A slice number from the future (a corrupt file) would stop judging.
		s.closed = min(ss.Closed, floorDiv(si.Now, s.sp.w))
		restoreTiers(s.v, []snapTier{ss.Verdict})
	}
	if c := a.cal; c != nil {
		w := int64(0)
		if a.slices != nil {
			w = a.slices.sp.w
		}
		if p := si.Period; p != nil && p.Start == c.start && p.End == c.end && p.SliceWindow == w {
			c.total, c.bad = p.Total, p.Bad
		} else {
			a.rebuildCalendar(periodWindow)
		}
	}
}

// Adopt takes over the state of old (slices, counters, alert states and
// series of the SLOs both engines declare, matched by name), e.g. when a
// reloaded configuration builds a new engine. Call it before feeding e.
func (e *Engine) Adopt(old *Engine, now time.Time) error {
	data, _, _, err := old.encodeSnapshot(now, true)
	if err != nil {
		return fmt.Errorf("could not copy slo state: %w", err)
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return fmt.Errorf("could not copy slo state: %w", err)
	}
	e.mu.Lock()
	e.restore(s, now, true)
	e.mu.Unlock()
	return nil
}
