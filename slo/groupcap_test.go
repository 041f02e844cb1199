package slo

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

// groupedSLO is testSLO grouped by route with the given cap (0: default).
func groupedSLO(limit int) *spec.SLO {
	s := testSLO("routes", 0.99)
	s.SLI.Metric = &spec.MetricRatio{GroupBy: []string{"route"}}
	s.GroupByLimit = limit
	return s
}

func routeInstance(e *Engine, route string, now time.Time) *Instance {
	h := HashString(HashSeed, route)
	return e.Instance(0, h, func() map[string]string { return map[string]string{"route": route} }, now)
}

// eventsByRoute evaluates at now and returns the events per route label.
func eventsByRoute(e *Engine, now time.Time) map[string]float64 {
	out := map[string]float64{}
	e.Evaluate(context.Background(), now, func(s *Status) { out[s.Group["route"]] = s.Events })
	return out
}

func TestGroupByCap(t *testing.T) {
	tests := []struct {
		name         string
		limit        int
		routes       int
		wantGroups   int
		wantOverflow float64
	}{
		{"1000 routes and 10 more: the 10 share one overflow instance (default cap)", 0, 1010, 1000, 10},
		{"exactly the cap: no overflow instance", 5, 5, 5, 0},
		{"a cap of 1: every other route overflows", 1, 4, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEngine(t, groupedSLO(tt.limit))
			overflowed := 0
			for r := range tt.routes {
				in := routeInstance(e, "/r"+strconv.Itoa(r), minute(1))
				if in.Overflow() {
					overflowed++
				}
				require.Equal(t, Counted, e.AddEvents(in, minute(1), 1, 0))
			}
			got := eventsByRoute(e, minute(1))
			assert.Equal(t, tt.wantOverflow, got[OverflowValue])
			assert.Equal(t, int(tt.wantOverflow), overflowed)
			delete(got, OverflowValue)
			assert.Len(t, got, tt.wantGroups)
			wantLen := tt.wantGroups
			if tt.wantOverflow > 0 {
				wantLen++
			}
			assert.Equal(t, wantLen, e.Len())
		})
	}
}

func TestGroupByCapNeverEvicts(t *testing.T) {
	e, _ := newTestEngine(t, groupedSLO(2))
	a := routeInstance(e, "/a", minute(1))
	e.AddEvents(a, minute(1), 5, 1)
	routeInstance(e, "/b", minute(1))
	for i := range 50 { // churn: new routes keep coming
		in := routeInstance(e, "/new"+strconv.Itoa(i), minute(2))
		require.True(t, in.Overflow())
	}
	assert.Same(t, a, routeInstance(e, "/a", minute(3)), "an existing instance is never replaced by newcomers")
	assert.Equal(t, 5.0, eventsByRoute(e, minute(3))["/a"])
}

func TestOverflowInstanceSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap.json")
	e, _ := newTestEngine(t, groupedSLO(3))
	for r := range 5 {
		e.AddEvents(routeInstance(e, "/r"+strconv.Itoa(r), minute(1)), minute(1), 1, 0)
	}
	require.NoError(t, e.WriteSnapshot(path, minute(1)))

	e2, _ := newTestEngine(t, groupedSLO(3))
	require.NoError(t, e2.RestoreSnapshot(path, minute(1)))
	got := eventsByRoute(e2, minute(1))
	assert.Equal(t, map[string]float64{"/r0": 1, "/r1": 1, "/r2": 1, OverflowValue: 2}, got)
	in := routeInstance(e2, "/r9", minute(2))
	assert.True(t, in.Overflow(), "the restored instances still fill the cap")
	e2.AddEvents(in, minute(2), 1, 0)
	assert.Equal(t, 3.0, eventsByRoute(e2, minute(2))[OverflowValue])
	assert.Equal(t, 4, e2.Len())
}

func TestOverflowInstanceCanAlert(t *testing.T) {
	e, _ := newTestEngine(t, groupedSLO(1))
	routeInstance(e, "/a", minute(0))
	for m := 1; m <= 60; m++ {
		in := routeInstance(e, "/other"+strconv.Itoa(m), minute(m))
		e.AddEvents(in, minute(m), 100, 50)
	}
	var state AlertState
	e.Evaluate(context.Background(), minute(60), func(s *Status) {
		if s.Group["route"] == OverflowValue {
			state = s.Alerts[Page].State
		}
	})
	assert.Equal(t, Firing, state)
}
