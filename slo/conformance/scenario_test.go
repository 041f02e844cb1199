package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/backtest"
)

func TestCounterBuild(t *testing.T) {
	start := time.Unix(600, 0).UTC()
	ten := func(int) float64 { return 10 }
	for _, tc := range []struct {
		name  string
		c     Counter
		wantV []float64
		wantT []int64 // seconds
	}{
		{"a counter grows by its rate per scrape", Counter{Start: start, Step: time.Minute, N: 4, Rate: ten},
			[]float64{0, 10, 20, 30}, []int64{600, 660, 720, 780}},
		{"a 30s step adds half the per-minute rate", Counter{Start: start, Step: 30 * time.Second, N: 3, Rate: ten},
			[]float64{0, 5, 10}, []int64{600, 630, 660}},
		{"a reset drops the counter to half a step's increase", Counter{Start: start, Step: time.Minute, N: 4, Rate: ten, ResetAt: 2},
			[]float64{0, 10, 5, 15}, []int64{600, 660, 720, 780}},
		{"a reset reads the rate of its minute, not of its scrape index", Counter{Start: start, Step: 30 * time.Second, N: 4, ResetAt: 2,
			Rate: func(m int) float64 { return float64(10 * (m + 1)) }},
			[]float64{0, 5, 5, 15}, []int64{600, 630, 660, 690}},
		{"a late start begins at zero", Counter{Start: start, Step: time.Minute, N: 4, Rate: ten, StartAt: 2},
			[]float64{0, 10}, []int64{720, 780}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.c.Build()
			assert.Equal(t, tc.wantV, s.V)
			var ts []int64
			for _, x := range s.T {
				ts = append(ts, x.Unix())
			}
			assert.Equal(t, tc.wantT, ts)
		})
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	c := Counter{Start: time.Unix(0, 0), Step: time.Minute, N: 100, Rate: func(int) float64 { return 1 }, Jitter: 2 * time.Second, Seed: 7}
	s := c.Build()
	for i, x := range s.T {
		d := x.Sub(time.Unix(0, 0).Add(time.Duration(i) * time.Minute))
		assert.LessOrEqual(t, d.Abs(), 2*time.Second, "sample %d", i)
	}
	assert.Equal(t, s.T, c.Build().T, "the same seed gives the same timestamps")
}

func TestOpenMetricsRoundTripsThroughTheBacktestParser(t *testing.T) {
	ten := func(int) float64 { return 10 }
	a := Counter{Metric: "x_requests_total", Labels: `code="200"`, Start: time.Unix(60, 0), Step: time.Minute, N: 3, Rate: ten}.Build()
	b := Counter{Metric: "x_requests_total", Labels: `code="500"`, Start: time.Unix(60, 0), Step: time.Minute, N: 3, Rate: ten, Jitter: time.Second, Seed: 1}.Build()
	om := OpenMetrics([]Series{a, b})
	samples, err := backtest.Parse(om)
	require.NoError(t, err)
	require.Len(t, samples, 6)
	for _, s := range samples {
		assert.Equal(t, "x_requests_total", s.Labels.Get("__name__"))
	}
	assert.Equal(t, "0 10 20", PromtoolValues(a))
}
