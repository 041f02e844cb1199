package slo

import (
	"context"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

// The running window sums must always equal a brute-force sum over the
// raw events, across ring wrap-arounds, irregular evaluation intervals,
// late events and long gaps.
func TestWindowSumsMatchBruteForce(t *testing.T) {
	s := testSLO("a", 0.99)
	e, _ := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, t0)
	d := e.slos[0]
	type ev struct {
		ts         int64
		total, bad float64
	}
	var evs []ev
	rng := rand.New(rand.NewSource(1))
	now := t0
	end := t0.Add(40 * 24 * time.Hour)
	for now.Before(end) {
		switch r := rng.Intn(100); {
		case r < 2:
			now = now.Add(time.Duration(rng.Int63n(int64(30 * time.Hour)))) // a long gap
		default:
			now = now.Add(time.Duration(rng.Int63n(int64(40 * time.Minute))))
		}
		for i := rng.Intn(5); i > 0; i-- {
			ts := now.Add(-time.Duration(rng.Int63n(int64(3 * time.Minute)))) // a little late
			x := ev{ts.UnixNano(), float64(rng.Intn(100)), float64(rng.Intn(10))}
			if e.AddEvents(in, ts, x.total, x.bad) == Counted {
				evs = append(evs, x)
			}
		}
		e.Evaluate(context.Background(), now, nil)
		for w, ws := range d.layout.windows {
			res := d.layout.tiers[ws.tier].res
			lo := ceilDiv(now.UnixNano()-ws.d, res)
			var total, bad float64
			for _, x := range evs {
				if floorDiv(x.ts-1, res) >= lo {
					total += x.total
					bad += x.bad
				}
			}
			got := in.acc.sums[w]
			require.Equal(t, total, got.total, "window %s at %s", time.Duration(ws.d), now)
			require.Equal(t, bad, got.bad, "window %s at %s", time.Duration(ws.d), now)
		}
	}
}

func TestHysteresisOnResolve(t *testing.T) {
	s := testSLO("a", 0.99)
	s.Alerting.Page.Windows = []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 10}}
	s.Alerting.Ticket.Enabled = false
	// 15% errors for 60 minutes (burn 15), then 9.5% (burn 9.5: under the
	// factor 10 but over 0.9 × 10), then 5%. With hysteresis the page
	// resolves at minute 181, when the 5m window holds (4×9.5+5)/500 =
	// 8.6% < 9%; without, at minute 65, when the 5m window is all 9.5%.
	badAt := func(m int) float64 {
		switch {
		case m <= 60:
			return 15
		case m <= 180:
			return 9.5
		}
		return 5
	}
	for _, tt := range []struct {
		name    string
		resolve float64
		want    []string
	}{
		{"with the default ratio 0.9 a burn of 9.5 keeps the page firing", 0, []string{"1 page firing", "181 page resolved"}},
		{"without hysteresis the page resolves once the 5m burn is under 10", 1, []string{"1 page firing", "65 page resolved"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			e, err := NewEngine([]*spec.SLO{s}, Options{Notifier: rec, ResolveRatio: tt.resolve})
			require.NoError(t, err)
			in := e.Instance(0, HashSeed, nil, t0)
			for m := 1; m <= 200; m++ {
				e.AddEvents(in, minute(m), 100, badAt(m))
				e.Evaluate(context.Background(), minute(m), nil)
			}
			require.Equal(t, tt.want, transitions(rec.got))
		})
	}
}
