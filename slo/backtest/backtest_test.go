package backtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func run(t *testing.T, opts Options) []byte {
	t.Helper()
	slos, err := formats.Load("testdata/slos.yaml")
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/input.om")
	require.NoError(t, err)
	samples, err := Parse(data)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, Run(&out, slos, samples, opts))
	return out.Bytes()
}

func TestBacktestGolden(t *testing.T) {
	got := run(t, Options{Step: 10 * time.Minute})
	if *update {
		require.NoError(t, os.WriteFile("testdata/golden.jsonl", got, 0o600))
	}
	want, err := os.ReadFile("testdata/golden.jsonl")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// The numbers, computed by hand from the generator in testdata: 100
// requests a minute, 20 of them failing during minutes 60-99.
func TestBacktestHandComputed(t *testing.T) {
	lines := map[string]Line{}
	sc := bufio.NewScanner(bytes.NewReader(run(t, Options{Step: time.Minute})))
	for sc.Scan() {
		var l Line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		lines[l.Time+" "+l.SLO] = l
	}
	// At 01:30 the 30m window holds minutes 61-90: the increases at
	// 61..90 are those of minutes 60..89, all with 20 failures.
	a := lines["2026-01-01T01:30:00Z pay-availability"]
	assert.InDelta(t, 0.2, a.ErrorRatio.M30, 1e-12)
	assert.InDelta(t, 20.0, a.BurnRate.M30, 1e-9)
	// The period holds all 90 increases: 30 × 20 failures of 9,000.
	assert.InDelta(t, 600.0/9000, a.ErrorRatio.Period, 1e-12)
	assert.InDelta(t, 1-600.0/9000/0.01, a.BudgetRemaining, 1e-9)
	assert.Contains(t, a.Alerts, Alert{Severity: "page", State: "firing"})

	// Latency: 10% slow, 50% slow in minutes 120-149; at 02:40 the 30m
	// window holds the increases of minutes 130-159: 20 × 50 + 10 × 10 slow of 3,000.
	l := lines["2026-01-01T02:40:00Z pay-latency"]
	assert.InDelta(t, 1100.0/3000, l.ErrorRatio.M30, 1e-12)
	assert.InDelta(t, 1100.0/3000/0.05, l.BurnRate.M30, 1e-9)
}

func TestParseRejectsSamplesWithoutTimestamp(t *testing.T) {
	_, err := Parse([]byte("# TYPE x counter\nx_total 1\n# EOF\n"))
	assert.ErrorContains(t, err, "has no timestamp")
	_, err = Parse([]byte("garbage{"))
	assert.Error(t, err)
}

func TestBacktestSlothGroupBy(t *testing.T) {
	slos, err := formats.Parse("sloth.yaml", []byte(`version: prometheus/v1
service: pay
slos:
  - name: by-code-route
    objective: 99
    sli:
      events:
        error_query: sum by (route) (rate(http_requests_total{code="500"}[{{.window}}]))
        total_query: sum by (route) (rate(http_requests_total[{{.window}}]))
`))
	require.NoError(t, err)
	data, err := os.ReadFile("testdata/input.om")
	require.NoError(t, err)
	samples, err := Parse(data)
	require.NoError(t, err)
	var out bytes.Buffer
	at := time.Date(2026, 1, 1, 1, 30, 0, 0, time.UTC)
	require.NoError(t, Run(&out, slos, samples, Options{From: at, To: at}))
	var l Line
	require.NoError(t, json.Unmarshal(out.Bytes(), &l))
	assert.Equal(t, "pay-by-code-route", l.SLO)
	assert.Equal(t, map[string]string{"route": "/pay"}, l.Group)
	assert.InDelta(t, 0.2, l.ErrorRatio.M30, 1e-12)
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("testdata/input.om")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[:2000])
	f.Add([]byte("# TYPE x counter\nx_total 1 10\n# EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, err := Parse(data)
		if err != nil {
			return
		}
		for i := 1; i < len(samples); i++ {
			if samples[i].T < samples[i-1].T {
				t.Fatal("samples not sorted by time")
			}
		}
	})
}
