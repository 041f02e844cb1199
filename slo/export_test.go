package slo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

// What a ruler reads of an instance: every alert window's exact sums
// (Windows plus Extra), counters that never go back across a crash, and
// their start time.

func TestExtraListsTheCustomAlertWindowsShortestFirst(t *testing.T) {
	s := testSLO("custom", 0.99)
	s.Alerting.Page.Windows = []spec.WindowPair{{Long: 10 * time.Minute, Short: 2 * time.Minute, Factor: 10}, {Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4}}
	s.Alerting.Ticket = spec.Severity{Enabled: false, Windows: []spec.WindowPair{{Long: 90 * time.Minute, Short: 7 * time.Minute, Factor: 2}}}
	e, _ := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, t0)
	for m := 1; m <= 12; m++ {
		bad := 0.0
		if m > 10 {
			bad = 5
		}
		e.AddEvents(in, minute(m).Add(-time.Second), 10, bad)
	}
	st := status(e, minute(12))
	require.Len(t, st.Extra, 2, "2m and 10m; 1h and 5m are report windows; the disabled ticket's windows are not read")
	assert.Equal(t, WindowResult{Name: "2m", Window: 2 * time.Minute, Total: 20, Bad: 10, ErrorRatio: 0.5, BurnRate: 50}, st.Extra[0])
	assert.Equal(t, WindowResult{Name: "10m", Window: 10 * time.Minute, Total: 100, Bad: 10, ErrorRatio: 0.1, BurnRate: 10}, st.Extra[1])
}

func TestDefaultWindowsNeedNoExtra(t *testing.T) {
	e, _ := newTestEngine(t, testSLO("a", 0.99))
	e.AddEvents(e.Instance(0, HashSeed, nil, t0), minute(1), 1, 0)
	assert.Empty(t, status(e, minute(1)).Extra)
}

func TestDurableCountersFollowTheSnapshots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.snapshot")
	s := testSLO("a", 0.99)
	e, _ := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, t0)
	e.AddEvents(in, minute(1), 100, 3)
	st := status(e, minute(1))
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.Events, st.BadEvents})
	assert.Equal(t, [2]float64{0, 0}, [2]float64{st.DurableEvents, st.DurableBadEvents}, "nothing is on disk yet")
	assert.Equal(t, t0, st.CountingSince)

	require.NoError(t, e.WriteSnapshot(path, minute(1)))
	e.AddEvents(in, minute(2), 50, 1) // accepted, then lost with a kill -9
	st = status(e, minute(2))
	assert.Equal(t, [2]float64{150, 4}, [2]float64{st.Events, st.BadEvents})
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.DurableEvents, st.DurableBadEvents}, "what the snapshot holds")

	// The restarted engine starts from the snapshot: at least what was
	// exported as durable, so the exported counter never goes back.
	e2, _ := newTestEngine(t, s)
	require.NoError(t, e2.RestoreSnapshot(path, minute(3)))
	st = status(e2, minute(3))
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.Events, st.BadEvents})
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.DurableEvents, st.DurableBadEvents})
	assert.Equal(t, t0, st.CountingSince, "the start time survives the restart")

	// A failed write changes nothing.
	e2.AddEvents(e2.Instance(0, HashSeed, nil, minute(3)), minute(3), 10, 0)
	require.Error(t, e2.WriteSnapshot(filepath.Join(t.TempDir(), "missing", "dir", "x"), minute(3)))
	st = status(e2, minute(3))
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.DurableEvents, st.DurableBadEvents})

	// Adopt (a reload in memory) keeps the durable counters, not the live ones.
	e3, _ := newTestEngine(t, s)
	require.NoError(t, e3.Adopt(e2, minute(3)))
	st = status(e3, minute(3))
	assert.Equal(t, [2]float64{110, 3}, [2]float64{st.Events, st.BadEvents})
	assert.Equal(t, [2]float64{100, 3}, [2]float64{st.DurableEvents, st.DurableBadEvents})
	assert.Equal(t, t0, st.CountingSince)
}
