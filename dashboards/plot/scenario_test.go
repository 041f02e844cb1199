package plot

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/backtest"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

var update = flag.Bool("update", false, "rewrite the README scenario (docs/examples), its plot (docs/img) and the golden description")

// The README's example scenario: api-availability of slo.example.yaml
// (99.5% over 28d, one instance per region) over three days of the eu
// region's request counters, scraped every 5 minutes: a quiet day, a sharp
// 45-minute outage (20% errors) that pages, another quiet stretch, then a
// slow burn (2.2% errors for 18 hours) that opens a ticket.
const (
	scenarioSLOs   = "../../slo.example.yaml"
	scenarioInput  = "../../docs/examples/api-incident.om"
	scenarioImage  = "../../docs/img/backtest-api-availability.png"
	scenarioGolden = "testdata/readme-scenario.golden.txt"
	scenarioStep   = 5 * time.Minute
)

var scenarioStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// errorRate is the scenario's share of failed requests at t.
func errorRate(t time.Time) float64 {
	h := t.Sub(scenarioStart).Hours()
	switch {
	case h >= 30 && h < 30.75:
		return 0.20
	case h >= 48 && h < 66:
		return 0.022
	}
	return 0.0005
}

// scenarioOpenMetrics writes the scenario's counters (50 requests/s).
func scenarioOpenMetrics() []byte {
	var b bytes.Buffer
	b.WriteString("# TYPE http_requests counter\n")
	b.WriteString("# HELP http_requests The README's backtest scenario, written by go test ./dashboards/plot -run TestREADMEScenario -update\n")
	var ok, bad float64
	type sample struct {
		t       time.Time
		ok, bad float64
	}
	var samples []sample
	for t := scenarioStart; !t.After(scenarioStart.Add(72 * time.Hour)); t = t.Add(scenarioStep) {
		samples = append(samples, sample{t, math.Round(ok), math.Round(bad)})
		n := 50 * scenarioStep.Seconds()
		bad += n * errorRate(t)
		ok += n * (1 - errorRate(t))
	}
	for _, code := range []string{"200", "500"} {
		for _, s := range samples {
			v := s.ok
			if code == "500" {
				v = s.bad
			}
			fmt.Fprintf(&b, "http_requests_total{job=\"api\",region=\"eu\",code=\"%s\"} %.0f %d\n", code, v, s.t.Unix())
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

// scenarioFigure replays the committed scenario and builds its figure.
func scenarioFigure(t *testing.T) (*spec.SLO, []Step, *Figure) {
	t.Helper()
	slos, err := formats.Load(scenarioSLOs)
	require.NoError(t, err)
	var s *spec.SLO
	for _, x := range slos {
		if x.Name == "api-availability" {
			s = x
		}
	}
	require.NotNil(t, s)
	data, err := os.ReadFile(scenarioInput)
	require.NoError(t, err)
	samples, err := backtest.Parse(data)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, backtest.Run(&out, []*spec.SLO{s}, samples, backtest.Options{Step: scenarioStep}))
	steps, err := ReadSteps(&out, s.Name)
	require.NoError(t, err)
	steps, err = Instance(steps, "region=eu")
	require.NoError(t, err)
	f, err := Build(s, steps, Options{Source: "docs/examples/api-incident.om"})
	require.NoError(t, err)
	return s, steps, f
}

// TestREADMEScenario is the golden test of the README's plot: the
// structure of the figure (texts, axes, ticks, series, thresholds, alert
// bands) must match testdata/readme-scenario.golden.txt, and the drawn
// image must be the README's size. -update regenerates the scenario, the
// golden description and docs/img/backtest-api-availability.png.
func TestREADMEScenario(t *testing.T) {
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(scenarioInput), 0o755))
		require.NoError(t, os.WriteFile(scenarioInput, scenarioOpenMetrics(), 0o644))
	}
	data, err := os.ReadFile(scenarioInput)
	require.NoError(t, err)
	assert.Equal(t, string(scenarioOpenMetrics()), string(data), "the committed scenario is what the generator writes (go test -update)")

	_, _, f := scenarioFigure(t)
	got := Describe(f)
	if *update {
		require.NoError(t, os.WriteFile(scenarioGolden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(scenarioGolden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got, "the figure's structure changed; if on purpose: go test ./dashboards/plot -update")

	img, err := Draw(f)
	require.NoError(t, err)
	if *update {
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		require.NoError(t, os.WriteFile(scenarioImage, buf.Bytes(), 0o644))
	}
	committed, err := os.Open(scenarioImage)
	require.NoError(t, err)
	defer committed.Close()
	cfg, err := png.DecodeConfig(committed)
	require.NoError(t, err)
	assert.Equal(t, image.Point{f.Width, f.Height}, image.Point{cfg.Width, cfg.Height}, "the README's image is the figure's size")
}

// The scenario tells its story: the outage pages, the slow burn tickets,
// and the budget ends below zero.
func TestREADMEScenarioStory(t *testing.T) {
	_, steps, f := scenarioFigure(t)
	var bands []string
	for _, b := range f.Panels[0].Bands {
		bands = append(bands, fmt.Sprintf("%s %s", b.Label, b.From.Format("Jan 2 15:04")))
	}
	joined := strings.Join(bands, "; ")
	assert.Contains(t, joined, "page firing Mar 3 06:", "the outage at 06:00 on day two pages within the hour")
	assert.Contains(t, joined, "ticket firing", "the slow burn opens a ticket")
	last := steps[len(steps)-1].BudgetRemaining
	assert.Less(t, last, 0.0, "three days with an outage and a slow burn spend more than the budget the replay saw")
}
