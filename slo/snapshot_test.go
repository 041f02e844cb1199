package slo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

func TestSnapshotRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	s := testSLO("a", 0.99)
	e, _ := newTestEngine(t, s)
	in := e.Instance(0, 7, func() map[string]string { return map[string]string{"route": "/pay"} }, t0)
	for m := 1; m <= 90; m++ {
		e.AddCumulative(in, 1, t0, minute(m), float64(100*m), 0)
		bad := 0.0
		if m > 60 {
			bad = float64(30 * (m - 60))
		}
		e.AddCumulative(in, 2, t0, minute(m), 0, bad)
		status(e, minute(m))
	}
	before := status(e, minute(90))
	require.Equal(t, Firing, before.Alerts[Page].State)
	require.NoError(t, e.WriteSnapshot(path, minute(90)))

	// A restart: a new engine restores, and the next cumulative point of a
	// known series counts only its increase.
	e2, rec := newTestEngine(t, s)
	require.NoError(t, e2.RestoreSnapshot(path, minute(90)))
	after := status(e2, minute(90))
	assert.Equal(t, before.Windows, after.Windows)
	assert.Equal(t, before.Events, after.Events)
	assert.Equal(t, map[string]string{"route": "/pay"}, after.Group)
	assert.Equal(t, Firing, after.Alerts[Page].State, "alert states are part of the snapshot")
	assert.Empty(t, rec.got, "no transition is repeated after a restore")
	in2 := e2.Instance(0, 7, nil, minute(90))
	assert.Equal(t, Counted, e2.AddCumulative(in2, 1, t0, minute(91), 100*90+50, 0))
	st := status(e2, minute(91))
	assert.Equal(t, 4*100+50.0, st.Windows[0].Total, "minutes 87-90 restored, 91 counted as its increase")
}

func TestRestoreMissingFileStartsFresh(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	assert.NoError(t, e.RestoreSnapshot(filepath.Join(t.TempDir(), "none"), t0))
}

func TestCorruptSnapshotIsMovedAside(t *testing.T) {
	tests := []struct {
		name, content, wantErr string
	}{
		{"a truncated file", `{"version":1,"instances":[{"slo":"a"`, "unexpected EOF"},
		{"an unknown version", `{"version":99,"instances":[]}`, "snapshot version 99"},
		{"a zero tier resolution", `{"version":1,"instances":[{"slo":"a","tiers":[{"res":0,"first":0,"total":[],"bad":[]}]}]}`, "tier resolution 0"},
		{"arrays of different lengths", `{"version":1,"instances":[{"slo":"a","tiers":[{"res":60,"first":0,"total":[1,2],"bad":[1]}]}]}`, "2 totals but 1 bad counts"},
		{"a series pointing at no instance", `{"version":1,"instances":[],"series":[{"inst":3}]}`, "series 0"},
		{"garbage", "\x00\x01binary", "invalid snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "slo.snapshot")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			e, _ := newTestEngine(t, testSLO("a", 0.99))
			err := e.RestoreSnapshot(path, t0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			_, statErr := os.Stat(path)
			assert.True(t, os.IsNotExist(statErr), "the corrupt file is gone from its path")
			entries, _ := os.ReadDir(dir)
			require.Len(t, entries, 1)
			assert.True(t, strings.HasPrefix(entries[0].Name(), "slo.snapshot.corrupt-20260101T000000Z"))
			e.Evaluate(context.Background(), t0, nil) // the engine runs on, fresh
		})
	}
}

func TestWriteSnapshotLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	e.Instance(0, HashSeed, nil, t0)
	require.NoError(t, e.WriteSnapshot(filepath.Join(dir, "s"), t0))
	require.NoError(t, e.WriteSnapshot(filepath.Join(dir, "s"), t0.Add(time.Minute)))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1)
	assert.Error(t, e.WriteSnapshot(filepath.Join(dir, "missing", "s"), t0))
}

func FuzzDecodeSnapshot(f *testing.F) {
	e, _ := newTestEngine(f, testSLO("a", 0.99))
	in := e.Instance(0, HashSeed, nil, t0)
	e.AddCumulative(in, 1, t0, minute(1), 10, 1)
	data, _, _, err := e.encodeSnapshot(t0, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1}`))
	// A calendar SLO in time slices named "a" too: its period state.
	cal := calendarTimesliceSLO(f)
	e, _ = newTestEngine(f, cal)
	in = e.Instance(0, HashSeed, nil, t0)
	e.AddEvents(in, minute(1), 10, 1)
	e.Evaluate(context.Background(), minute(10), nil)
	if data, _, _, err = e.encodeSnapshot(minute(10), false); err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSnapshot(data)
		if err != nil {
			return
		}
		for _, slo := range []*spec.SLO{testSLO("a", 0.99), cal} {
			e, _ := newTestEngine(t, slo)
			e.mu.Lock()
			e.restore(s, t0, false)
			e.mu.Unlock()
			e.Evaluate(context.Background(), t0.Add(time.Hour), func(st *Status) {
				for _, w := range st.Windows {
					if w.ErrorRatio != w.ErrorRatio || w.BurnRate != w.BurnRate {
						t.Fatal("NaN after restore")
					}
				}
			})
		}
	})
}

// calendarTimesliceSLO is SLO "a" with a calendar month in Berlin
// counted in 5m time slices.
func calendarTimesliceSLO(t testing.TB) *spec.SLO {
	s := timesliceSLO(spec.Timeslices, 0.99)
	s.Name = "a"
	s.Calendar = &spec.CalendarPeriod{Unit: spec.CalendarMonth, Location: mustZone(t, "Europe/Berlin")}
	return s
}

func TestAdoptChangingThePeriodKind(t *testing.T) {
	old, _ := newTestEngine(t, testSLO("a", 0.99))
	in := old.Instance(0, HashSeed, nil, t0)
	old.AddEvents(in, at(t, "2025-12-31T20:00:00Z"), 10, 10) // December in Berlin
	old.AddEvents(in, minute(1), 10, 2)                      // Jan 1 01:01 in Berlin
	calendar := calendarSLO(spec.CalendarMonth, mustZone(t, "Europe/Berlin"), 0.99)
	calendar.Name = "a"
	e, _ := newTestEngine(t, calendar)
	require.NoError(t, e.Adopt(old, minute(2)))
	st := status(e, minute(2))
	assert.Equal(t, 10.0, st.Windows[WindowPeriod].Total, "a rolling SLO turned calendar rebuilds the period from its slices")
	assert.Equal(t, 20.0, st.Windows[reportIndex("1d")].Total, "the alert windows are carried over")

	slices := calendarTimesliceSLO(t)
	e2, _ := newTestEngine(t, slices)
	require.NoError(t, e2.Adopt(e, minute(2)))
	st = status(e2, minute(10))
	assert.Equal(t, 1.0, st.Windows[WindowPeriod].Total, "turned into time slices: the slices still in the 1m tier are judged")
	assert.Equal(t, 1.0, st.Windows[WindowPeriod].Bad)
}

func TestAdoptKeepsStateOfSLOsStillDeclared(t *testing.T) {
	old, _ := newTestEngine(t, testSLO("a", 0.99), testSLO("gone", 0.99))
	in := old.Instance(0, HashSeed, nil, t0)
	old.AddEvents(in, minute(1), 10, 2)
	old.AddEvents(old.Instance(1, HashSeed, nil, t0), minute(1), 5, 5)
	changed := testSLO("a", 0.999) // objective changed on reload
	e, _ := newTestEngine(t, changed, testSLO("new", 0.99))
	require.NoError(t, e.Adopt(old, minute(1)))
	assert.Equal(t, 1, e.Len(), "only the instance of 'a' is carried over")
	st := status(e, minute(1))
	assert.Equal(t, "a", st.SLO)
	assert.Equal(t, 10.0, st.Windows[0].Total)
	assert.InDelta(t, 0.2/0.001, st.Windows[0].BurnRate, 1e-9, "the new objective applies")
}

func TestReloadDisablingASeverityResolvesItsFiringAlert(t *testing.T) {
	old, _ := newTestEngine(t, testSLO("a", 0.99))
	in := old.Instance(0, HashSeed, nil, t0)
	for m := 1; m <= 10; m++ {
		old.AddEvents(in, minute(m), 100, 100)
		status(old, minute(m))
	}
	require.Equal(t, Firing, status(old, minute(10)).Alerts[Page].State)
	changed := testSLO("a", 0.99)
	changed.Alerting.Page.Enabled = false
	e, rec := newTestEngine(t, changed)
	require.NoError(t, e.Adopt(old, minute(10)))
	assert.Equal(t, Resolved, status(e, minute(11)).Alerts[Page].State)
	assert.Equal(t, Inactive, status(e, minute(12)).Alerts[Page].State)
	assert.Equal(t, []string{"11 page resolved", "11 ticket firing"}, transitions(rec.got),
		"the page no longer inhibits the ticket")
}

// Each window pair's pending time survives a restart: the restored pair
// fires when it would have without one.
func TestSnapshotKeepsEachPairsPendingTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	s := testSLO("a", 0.99)
	s.Alerting.Page.Windows[1].For = 25 * time.Minute // the 6h/30m pair holds from minute 86
	tv, bv := series(t, "0+100x130"), series(t, "0x60 20+20x39 800x29")
	feed := func(e *Engine, in *Instance, from, to int) {
		for m := from; m <= to; m++ {
			e.AddCumulative(in, 1, t0, minute(m), tv[m], 0)
			e.AddCumulative(in, 2, t0, minute(m), 0, bv[m])
			status(e, minute(m))
		}
	}
	e, _ := newTestEngine(t, s)
	feed(e, e.Instance(0, HashSeed, nil, t0), 0, 95)
	require.Equal(t, Pending, status(e, minute(95)).Alerts[Page].State)
	require.NoError(t, e.WriteSnapshot(path, minute(95)))
	want := e.instances[0].alerts[Page].pairSince
	require.Equal(t, []int64{0, minute(86).UnixNano()}, want)

	e2, rec := newTestEngine(t, s)
	require.NoError(t, e2.RestoreSnapshot(path, minute(95)))
	assert.Equal(t, want, e2.instances[0].alerts[Page].pairSince)
	feed(e2, e2.Instance(0, HashSeed, nil, minute(95)), 96, 115)
	assert.Equal(t, []string{"111 page firing"}, transitions(rec.got))
}
