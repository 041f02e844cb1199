package pyrra

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

func TestIndicators(t *testing.T) {
	data, err := os.ReadFile("testdata/indicators.yaml")
	require.NoError(t, err)
	slos, warnings, err := Read("p.yaml", data)
	require.NoError(t, err)
	assert.Empty(t, warnings)
	require.Len(t, slos, 4)

	r := slos[0]
	assert.Equal(t, "checkout-errors", r.Name)
	assert.Equal(t, "shop", r.Service, "the namespace is the service")
	assert.InDelta(t, 0.995, r.Objective, 1e-12, "target is a percent in a string")
	assert.Equal(t, 28*24*time.Hour, r.Period)
	assert.Equal(t, map[string]string{"team": "payments"}, r.Labels, "pyrra.dev/ labels, without the prefix")
	require.NotNil(t, r.SLI.Metric)
	assert.Equal(t, []string{"route"}, r.SLI.Metric.GroupBy)
	assert.Equal(t, "CheckoutErrorBudgetBurn", r.Alerting.Name)
	// Pyrra's windows for 28d: critical 1h/5m×14 and 6h/30m×7, warning 1d/2h×2 and 4d/6h×1.
	assert.Equal(t, []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 14, For: 2 * time.Minute}, {Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 7, For: 15 * time.Minute}}, r.Alerting.Page.Windows)
	assert.Equal(t, []spec.WindowPair{{Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 2, For: time.Hour}, {Long: 96 * time.Hour, Short: 6 * time.Hour, Factor: 1, For: 3 * time.Hour}}, r.Alerting.Ticket.Windows)
	assert.Equal(t, 2*time.Minute, r.Alerting.Page.For)
	assert.Equal(t, time.Hour, r.Alerting.Ticket.For)
	assert.Empty(t, r.ExportOnly())

	l := slos[1]
	require.NotNil(t, l.SLI.Latency)
	assert.Equal(t, "http_request_duration_seconds", l.SLI.Latency.Histogram.MetricName)
	assert.Equal(t, 0.3, l.SLI.Latency.Threshold)
	assert.Equal(t, `http_request_duration_seconds{job="checkout"}`, spec.SelectorText(l.SLI.Latency.Histogram.MetricName, l.SLI.Latency.Histogram.Matchers))
	assert.Equal(t, 30*time.Minute, l.Alerting.Page.Windows[0].Long, "a 2w window halves Pyrra's 28d windows")
	assert.False(t, l.Alerting.Page.Enabled, "burnrates: false disables the alerts")
	assert.False(t, l.Alerting.Ticket.Enabled)

	n := slos[2]
	assert.Equal(t, "default", n.Service, "no namespace is Kubernetes' default")
	require.NotNil(t, n.SLI.PromQL)
	assert.Equal(t, `1 - histogram_fraction(0, 0.25, sum (rate(http_request_duration_seconds{job="checkout"}[{{.window}}])))`, n.SLI.PromQL.ErrorRatio)
	assert.Contains(t, n.ExportOnly(), "'spec.indicator.latencyNative' can only be exported")

	b := slos[3]
	require.NotNil(t, b.SLI.PromQL)
	assert.Equal(t, `1 - (sum by (instance) (sum_over_time(probe_success{job="blackbox"}[{{.window}}])) / sum by (instance) (count_over_time(probe_success{job="blackbox"}[{{.window}}])))`, b.SLI.PromQL.ErrorRatio)
}

func TestRefusals(t *testing.T) {
	head := "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: x}\nspec:\n"
	for _, tc := range []struct{ name, spec, want string }{
		{"a target that is not a number", "  target: high\n  window: 28d\n  indicator: {ratio: {errors: {metric: a_total}, total: {metric: b_total}}}\n",
			`'spec.target' must be a percentage as a string`},
		{"no indicator", "  target: '99'\n  window: 28d\n", `'spec.indicator' must have exactly one of 'ratio', 'latency', 'latencyNative' or 'bool_gauge', got 0`},
		{"a window that is not a duration", "  target: '99'\n  window: monthly\n  indicator: {ratio: {errors: {metric: a_total}, total: {metric: b_total}}}\n",
			`'spec.window' must be a Prometheus duration`},
		{"a latency bucket without le", "  target: '99'\n  window: 28d\n  indicator: {latency: {success: {metric: h_bucket}, total: {metric: h_count}}}\n",
			`'spec.indicator.latency.success.metric' must select one bucket with an le="..." matcher`},
		{"a query that is not a selector", "  target: '99'\n  window: 28d\n  indicator: {ratio: {errors: {metric: 'sum(a_total)'}, total: {metric: b_total}}}\n",
			`'spec.indicator.ratio.errors.metric' must be a series selector`},
		{"another kind", "", `must be 'apiVersion' "pyrra.dev/v1alpha1" 'kind' "ServiceLevelObjective"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := head + tc.spec
			if tc.spec == "" {
				data = "apiVersion: pyrra.dev/v1alpha1\nkind: SLO\n"
			}
			_, _, err := Read("p.yaml", []byte(data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWarnings(t *testing.T) {
	data := []byte(`apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: x, namespace: ns}
spec:
  target: "99"
  window: 28d
  indicator:
    ratio:
      errors: {metric: 'a_total{code="500"} offset 1m'}
      total: {metric: a_total offset 1m}
  alerting:
    burnRateType: dynamic
    burnrate: false
`)
	slos, warnings, err := Read("p.yaml", data)
	require.NoError(t, err)
	require.Len(t, slos, 1)
	var msgs []string
	for _, w := range warnings {
		msgs = append(msgs, w.Error())
	}
	assert.Equal(t, []string{
		`p.yaml: slo "x": 'spec.alerting.burnrate' is ignored (Kubernetes ignores it too): it is not a field of Pyrra's ServiceLevelObjective`,
		`p.yaml: slo "x": 'spec.indicator.ratio.errors.metric' offset 1m is dropped: obsd counts events as they arrive, and its rules read the series without offset`,
		`p.yaml: slo "x": 'spec.indicator.ratio.total.metric' offset 1m is dropped: obsd counts events as they arrive, and its rules read the series without offset`,
		`p.yaml: slo "x": 'spec.alerting.burnRateType' dynamic is not supported: obsd alerts with Pyrra's static burn rates (the SLO itself is evaluated unchanged); remove the key, or set it to static, to acknowledge`,
	}, msgs)
}

// FuzzRead fuzzes the Pyrra reader.
func FuzzRead(f *testing.F) {
	data, err := os.ReadFile("testdata/indicators.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nspec: {target: 1e309, window: 0s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, _, err := Read("fuzz.yaml", data)
		if err == nil && len(slos) == 0 {
			t.Fatal("no error and no slo")
		}
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
			if s.Period < 24*time.Hour {
				t.Fatalf("accepted window %v", s.Period)
			}
		}
	})
}
