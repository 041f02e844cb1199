package rules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/backtest"
	"github.com/obsd-dev/obsd/slo/conformance"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

const scenarioSLOs = `version: obsd/v1
slos:
  - name: burst
    service: shop
    objective: 99
    sli:
      metric: {bad: 'burst_requests_total{code=~"5.."}', total: burst_requests_total}
    alerting: {runbook_url: https://runbooks.example/shop}
  - name: burst-pair-for
    service: shop
    objective: 99
    sli:
      metric: {bad: 'burst_requests_total{code=~"5.."}', total: burst_requests_total}
    alerting:
      runbook_url: https://runbooks.example/shop
      page:
        windows:
          - {long: 1h, short: 5m, burn_rate: 14.4}
          - {long: 6h, short: 30m, burn_rate: 6, for: 15m}
  - name: steady
    service: shop
    objective: 99
    sli:
      metric: {bad: 'steady_requests_total{code=~"5.."}', total: steady_requests_total}
`

// scenarioSeries: "burst" has 0.2 errors/min and 60/min from minute 60 to
// 90; "steady" 0.5 errors/min (burn rate 0.5) all along; 100 good/min.
// burst-pair-for's 6h/30m pair holds from minute 67 and waits its 15m;
// its 1h/5m pair holds from minute 77 and fires at once.
func scenarioSeries() []conformance.Series {
	start := time.Unix(0, 0).UTC()
	mk := func(metric, lbl string, rate conformance.Rate) conformance.Series {
		return conformance.Counter{Metric: metric, Labels: lbl, Start: start, Step: time.Minute, N: 181, Rate: rate}.Build()
	}
	flat := func(v float64) conformance.Rate { return func(int) float64 { return v } }
	burst := func(m int) float64 {
		if m > 60 && m <= 90 {
			return 60
		}
		return 0.2
	}
	return []conformance.Series{
		mk("burst_requests_total", `code="200"`, flat(100)),
		mk("burst_requests_total", `code="500"`, burst),
		mk("steady_requests_total", `code="200"`, flat(100)),
		mk("steady_requests_total", `code="500"`, flat(0.5)),
	}
}

// TestPromtoolRulesFireWhenObsdFires runs the exported rules with
// `promtool test rules` on the scenario series and expects, every 5
// minutes, the page alert firing exactly when obsd's engine (through the
// backtest on the same samples) fires it. Times where obsd still fires
// only through its resolve hysteresis (burn rates between 0.9× and 1× the
// factor) have no Prometheus equivalent and are not compared.
func TestPromtoolRulesFireWhenObsdFires(t *testing.T) {
	slos, err := formats.Parse("scenario.yaml", []byte(scenarioSLOs))
	require.NoError(t, err)
	series := scenarioSeries()
	lines := backtestLines(t, slos, series)

	dir := t.TempDir()
	out, err := Generate(slos, Options{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), out, 0o600))

	var tf strings.Builder
	tf.WriteString("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, s := range series {
		fmt.Fprintf(&tf, "      - series: '%s{%s}'\n        values: '%s'\n", s.Metric, s.Labels, conformance.PromtoolValues(s))
	}
	tf.WriteString("    promql_expr_test:\n")
	fires := map[string]int{}
	quiet := map[string]int{}
	hysteresis := 0
	for _, sp := range slos {
		for m := 5; m <= 180; m += 5 {
			l := lines[sp.Name][m]
			firing := false
			for _, a := range l.Alerts {
				firing = firing || (a.Severity == "page" && a.State == "firing")
			}
			expr := fmt.Sprintf(`max(ALERTS{alertname="SLOErrorBudgetBurn",slo=%q,severity="page",alertstate="firing"})`, sp.Name)
			switch {
			case firing && !pairHolds(sp, l):
				hysteresis++
				continue
			case firing:
				fires[sp.Name]++
				fmt.Fprintf(&tf, "      - expr: '%s'\n        eval_time: %dm\n        exp_samples: [{labels: '{}', value: 1}]\n", expr, m)
			default:
				quiet[sp.Name]++
				fmt.Fprintf(&tf, "      - expr: '%s'\n        eval_time: %dm\n        exp_samples: []\n", expr, m)
			}
		}
	}
	assert.Positive(t, fires["burst"], "obsd never fired the burst's page")
	assert.Positive(t, fires["burst-pair-for"], "obsd never fired the page of the pairs with their own 'for'")
	assert.Zero(t, fires["steady"], "obsd fired on steady low errors")
	assert.Positive(t, quiet["burst"])
	t.Logf("compared: burst fires at %d times and is quiet at %d; steady quiet at %d; %d hysteresis times skipped",
		fires["burst"], quiet["burst"], quiet["steady"], hysteresis)
	testFile := filepath.Join(dir, "test.yml")
	require.NoError(t, os.WriteFile(testFile, []byte(tf.String()), 0o600))

	promtool(t, dir, "", "test", "rules", "test.yml")
}

// pairHolds reports whether a page pair reaches its factor on both windows.
func pairHolds(sp *spec.SLO, l backtest.Line) bool {
	for _, p := range sp.Alerting.Page.Windows {
		bl, okL := burnAt(l, p.Long)
		bs, okS := burnAt(l, p.Short)
		if okL && okS && bl >= p.Factor*(1-1e-9) && bs >= p.Factor*(1-1e-9) {
			return true
		}
	}
	return false
}

func burnAt(l backtest.Line, w time.Duration) (float64, bool) {
	b := l.BurnRate
	switch w {
	case 5 * time.Minute:
		return b.M5, true
	case 30 * time.Minute:
		return b.M30, true
	case time.Hour:
		return b.H1, true
	case 2 * time.Hour:
		return b.H2, true
	case 6 * time.Hour:
		return b.H6, true
	case 24 * time.Hour:
		return b.D1, true
	case 72 * time.Hour:
		return b.D3, true
	}
	return 0, false
}

// backtestLines runs obsd's engine on the series; lines by SLO and minute.
func backtestLines(t *testing.T, slos []*spec.SLO, series []conformance.Series) map[string]map[int]backtest.Line {
	t.Helper()
	samples, err := backtest.Parse(conformance.OpenMetrics(series))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, backtest.Run(&buf, slos, samples, backtest.Options{Step: time.Minute, From: time.Unix(0, 0)}))
	out := map[string]map[int]backtest.Line{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l backtest.Line
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		ts, err := time.Parse(time.RFC3339, l.Time)
		require.NoError(t, err)
		if out[l.SLO] == nil {
			out[l.SLO] = map[int]backtest.Line{}
		}
		out[l.SLO][int(ts.Unix()/60)] = l
	}
	require.NoError(t, sc.Err())
	return out
}
