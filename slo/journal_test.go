package slo

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

// journalSLOs are an ungrouped span-like SLO, a metric ratio SLO grouped
// by route (instances created all along, some after the snapshot), and an
// ungrouped metric SLO fed cumulative and delta points.
func journalSLOs() []*spec.SLO {
	grouped := testSLO("routes", 0.99)
	grouped.SLI.Metric = &spec.MetricRatio{GroupBy: []string{"route"}}
	return []*spec.SLO{testSLO("spans", 0.99), grouped, testSLO("sums", 0.99)}
}

// journal is what a journal client holds: the durable records by number.
type journal map[uint64][]byte

func (j journal) truncate(m JournalMark) {
	for seq := range j {
		if m.Covers(seq) {
			delete(j, seq)
		}
	}
}

// replay replays j in sequence order into e.
func (j journal) replay(t *testing.T, e *Engine, now time.Time) (applied, covered int) {
	t.Helper()
	seqs := make([]uint64, 0, len(j))
	for s := range j {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	for _, s := range seqs {
		got, err := RecordSeq(j[s])
		require.NoError(t, err)
		require.Equal(t, s, got)
		res, err := e.Replay(j[s], now)
		require.NoError(t, err)
		require.Zero(t, res.Unresolved)
		applied += res.Applied
		if res.Covered {
			covered++
		}
	}
	return applied, covered
}

// statuses evaluates e and returns every instance's status by SLO and group.
func statuses(e *Engine, now time.Time) map[string]Status {
	out := map[string]Status{}
	e.Evaluate(context.Background(), now, func(s *Status) {
		st := *s
		st.Alerts = [2]AlertStatus{} // transitions differ: B never saw the alerts fire live
		out[fmt.Sprintf("%s %v", s.SLO, s.Group)] = st
	})
	return out
}

// minuteBatch is one minute of traffic for the engine e as a Batch: spans (one in
// five bad), a request on a route new this minute, the cumulative and the
// delta series of "sums".
func minuteBatch(e *Engine, m int) *Batch {
	b := NewBatch()
	ts := minute(m)
	spans := e.Instance(0, HashSeed, nil, ts)
	for i := range 10 {
		bad := 0.0
		if i%5 == 0 {
			bad = 1
		}
		b.AddEvents(spans, ts.Add(time.Duration(i)*time.Second), 1, bad)
	}
	route := fmt.Sprint("/r", m)
	rh := HashString(HashString(HashSeed, route), "\xff")
	in := e.Instance(1, rh, func() map[string]string { return map[string]string{"route": route} }, ts)
	b.AddEvents(in, ts, 3, 1)
	sums := e.Instance(2, HashSeed, nil, ts)
	b.AddCumulative(sums, 1, t0, ts, float64(100*m), float64(m))
	b.AddDelta(sums, 2, ts.Add(-time.Minute), ts, 7, 2)
	b.AddEvents(sums, ts, math.Inf(1), 0) // invalid: dropped live and on replay alike
	if m == 20 {
		// A series first seen after the snapshot, started after the
		// engine's CountFrom: counted in full, after a restart too.
		b.AddCumulative(sums, 3, t0.Add(time.Second), ts, 50, 5)
	}
	return b
}

// TestReplayRestoresWhatWasCommitted runs an engine through 30 minutes of
// batches with a journal (a batch in flight across the snapshot, one
// refused), "crashes" at minute 30, and checks that a new engine that
// restores the snapshot and replays the journal evaluates exactly as the
// one that never stopped.
func TestReplayRestoresWhatWasCommitted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot.json")
	live, err := NewEngine(journalSLOs(), Options{CountFrom: t0})
	require.NoError(t, err)
	j := journal{}
	commit := func(b *Batch) {
		live.Begin(b)
		j[b.Seq()] = b.AppendRecord(nil)
		live.Commit(b, true)
	}
	for m := 1; m <= 30; m++ {
		switch m {
		case 10:
			// A batch is in flight while the snapshot is taken: the
			// snapshot does not hold it, so its record must stay.
			b := minuteBatch(live, m)
			live.Begin(b)
			rec := b.AppendRecord(nil)
			mark, err := live.Checkpoint(path, minute(m))
			require.NoError(t, err)
			assert.False(t, mark.Covers(b.Seq()), "a batch in flight is not covered")
			j[b.Seq()] = rec
			live.Commit(b, true)
			j.truncate(mark)
			require.Contains(t, j, b.Seq())
		case 12:
			// A refused request: begun, never journaled, aborted.
			b := minuteBatch(live, m)
			live.Begin(b)
			live.Abort(b)
		default:
			commit(minuteBatch(live, m))
		}
		if m%5 == 0 {
			live.Evaluate(context.Background(), minute(m), nil)
		}
	}
	want := statuses(live, minute(30))
	require.Len(t, want, 2+30, "two ungrouped SLOs, one route instance a minute (the refused one's too, empty)")

	restarted, err := NewEngine(journalSLOs(), Options{CountFrom: minute(30)})
	require.NoError(t, err)
	require.NoError(t, restarted.RestoreSnapshot(path, minute(30)))
	applied, covered := j.replay(t, restarted, minute(30))
	assert.Equal(t, 20*(10+1+3)+1, applied, "the 20 minutes from 10 to 30 but 12: 10 spans, 1 route request, 3 sum points each; a new series")
	assert.Zero(t, covered, "truncation left only records the snapshot does not hold")
	got := statuses(restarted, minute(30))
	assert.NotContains(t, got, "routes map[route:/r12]", "the refused request's empty instance is not rebuilt")
	delete(want, "routes map[route:/r12]")
	require.Len(t, got, len(want))
	for k, w := range want {
		g := got[k]
		assert.Equal(t, w.Events, g.Events, "%s events", k)
		assert.Equal(t, w.BadEvents, g.BadEvents, "%s bad events", k)
		assert.Equal(t, w.Windows, g.Windows, "%s windows", k)
		assert.Equal(t, w.Group, g.Group, "%s group", k)
	}

	// The series states came back too: the next cumulative point counts
	// only its increase in both, and a replayed delta is not counted twice.
	for _, e := range []*Engine{live, restarted} {
		sums := e.Instance(2, HashSeed, nil, minute(31))
		assert.Equal(t, Counted, e.AddCumulative(sums, 1, t0, minute(31), 3100+50, 31))
		assert.Equal(t, Duplicate, e.AddDelta(sums, 2, minute(29), minute(30), 7, 2))
	}
	after := statuses(live, minute(31))
	delete(after, "routes map[route:/r12]")
	assert.Equal(t, after, statuses(restarted, minute(31)))

	// A second crash right after a checkpoint that covers everything:
	// nothing is replayed twice.
	mark, err := restarted.Checkpoint(path, minute(31))
	require.NoError(t, err)
	again, err := NewEngine(journalSLOs(), Options{CountFrom: minute(32)})
	require.NoError(t, err)
	require.NoError(t, again.RestoreSnapshot(path, minute(32)))
	applied, covered = j.replay(t, again, minute(32))
	assert.Zero(t, applied)
	assert.Equal(t, len(j), covered, "the restarted engine's checkpoint covers the replayed records")
	j.truncate(mark)
	assert.Empty(t, j)
	assert.Equal(t, statuses(restarted, minute(32)), statuses(again, minute(32)))
}

// TestReplayBeforeAnySnapshot: the new user, killed before the
// first snapshot: the journal alone brings the counts back.
func TestReplayBeforeAnySnapshot(t *testing.T) {
	live, err := NewEngine(journalSLOs(), Options{})
	require.NoError(t, err)
	in := live.Instance(0, HashSeed, nil, t0)
	b := NewBatch()
	for i := range 100 {
		b.AddEvents(in, t0, 1, float64(b2i(i < 10)))
	}
	live.Begin(b)
	rec := b.AppendRecord(nil)
	live.Commit(b, true)

	restarted, err := NewEngine(journalSLOs(), Options{})
	require.NoError(t, err)
	require.NoError(t, restarted.RestoreSnapshot(filepath.Join(t.TempDir(), "absent"), t0))
	res, err := restarted.Replay(rec, t0)
	require.NoError(t, err)
	assert.Equal(t, ReplayResult{Applied: 100}, res)
	all := statuses(restarted, t0.Add(time.Second))
	require.Contains(t, all, "spans map[]", "%v", all)
	st := all["spans map[]"]
	assert.Equal(t, 100.0, st.Events)
	assert.Equal(t, 10.0, st.BadEvents)
	assert.Equal(t, uint64(1), restarted.Begin(NewBatch()), "numbering goes on after the replayed record")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestReplayDefinesInstancesOncePerSnapshot: a grouped instance's labels
// are in the first durable record naming it after a snapshot, not in the
// next ones; a record of a refused batch does not count as its definition.
func TestReplayDefinesInstancesOncePerSnapshot(t *testing.T) {
	e, err := NewEngine(journalSLOs(), Options{})
	require.NoError(t, err)
	in := e.Instance(1, 42, func() map[string]string { return map[string]string{"route": "/pay"} }, t0)
	record := func(durable bool) []byte {
		b := NewBatch()
		b.AddEvents(in, t0, 1, 0)
		e.Begin(b)
		rec := b.AppendRecord(nil)
		if durable {
			e.Commit(b, true)
		} else {
			e.Abort(b)
		}
		return rec
	}
	defined := func(rec []byte) bool {
		d, err := decodeRecord(rec)
		require.NoError(t, err)
		return d.insts[0].group != nil
	}
	assert.True(t, defined(record(false)), "the first record defines the instance")
	assert.True(t, defined(record(true)), "a refused record did not: the next one defines it again")
	assert.False(t, defined(record(true)), "once one is durable, later records only name it")
	_, err = e.Checkpoint(filepath.Join(t.TempDir(), "s.json"), t0)
	require.NoError(t, err)
	assert.True(t, defined(record(true)), "after a snapshot the first record defines it again")
}

// TestReplayOfAnSLONoLongerDeclared: its points are dropped and counted;
// the other SLOs' are replayed.
func TestReplayOfAnSLONoLongerDeclared(t *testing.T) {
	e, err := NewEngine(journalSLOs(), Options{})
	require.NoError(t, err)
	b := NewBatch()
	b.AddEvents(e.Instance(0, HashSeed, nil, t0), t0, 1, 0)
	b.AddEvents(e.Instance(2, HashSeed, nil, t0), t0, 1, 1)
	e.Begin(b)
	rec := b.AppendRecord(nil)

	fewer, err := NewEngine(journalSLOs()[2:], Options{})
	require.NoError(t, err)
	res, err := fewer.Replay(rec, t0)
	require.NoError(t, err)
	assert.Equal(t, ReplayResult{Applied: 1, Unresolved: 1}, res)
}

func TestJournalMarkCovers(t *testing.T) {
	m := JournalMark{Next: 10, Pending: []uint64{4, 7}}
	for seq, want := range map[uint64]bool{0: true, 3: true, 4: false, 7: false, 9: true, 10: false, 11: false} {
		assert.Equal(t, want, m.Covers(seq), "seq %d", seq)
	}
	assert.False(t, JournalMark{}.Covers(0), "no snapshot covers nothing")
}

func TestBadRecordsAreRefused(t *testing.T) {
	e, err := NewEngine(journalSLOs(), Options{})
	require.NoError(t, err)
	b := NewBatch()
	b.AddCumulative(e.Instance(2, HashSeed, nil, t0), 1, t0, t0, 5, 1)
	e.Begin(b)
	good := b.AppendRecord(nil)
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"another version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"a huge count", []byte{journalVersion, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Replay(tt.rec, t0)
			assert.ErrorIs(t, err, ErrRecord)
		})
	}
}

// FuzzReplay: no record, however damaged, panics the engine.
func FuzzReplay(f *testing.F) {
	e, err := NewEngine(journalSLOs(), Options{})
	require.NoError(f, err)
	for m := 1; m <= 3; m++ {
		b := minuteBatch(e, m)
		e.Begin(b)
		f.Add(b.AppendRecord(nil))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		e, err := NewEngine(journalSLOs(), Options{})
		require.NoError(t, err)
		_, _ = e.Replay(rec, t0)
		e.Evaluate(context.Background(), t0, nil)
	})
}

// BenchmarkJournalBatch100 is the per-request work of a journaled request
// of 100 spans over 50 instances: recording the points, numbering the
// batch, encoding its journal record and committing it. Reported per
// span; no allocation once the buffers have grown.
func BenchmarkJournalBatch100(b *testing.B) {
	slos := make([]*spec.SLO, 50)
	for i := range slos {
		slos[i] = testSLO(fmt.Sprint("svc-", i), 0.99)
	}
	e, err := NewEngine(slos, Options{})
	require.NoError(b, err)
	insts := make([]*Instance, len(slos))
	for i := range insts {
		insts[i] = e.Instance(i, HashSeed, nil, t0)
	}
	batch := NewBatch()
	var rec []byte
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		batch.Reset()
		ts := t0.Add(time.Duration(n) * time.Millisecond)
		for i := range 100 {
			batch.AddEvents(insts[i%len(insts)], ts, 1, float64(b2i(i%50 == 0)))
		}
		e.Begin(batch)
		rec = batch.AppendRecord(rec[:0])
		e.Commit(batch, true)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
	b.ReportMetric(float64(len(rec))/100, "record-bytes/span")
}
