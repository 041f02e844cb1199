package sloth

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

func read(t *testing.T, path string) ([]*spec.SLO, []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	slos, warnings, err := Read(path, data)
	require.NoError(t, err)
	var ws []string
	for _, w := range warnings {
		assert.True(t, spec.IsWarning(w))
		ws = append(ws, strings.TrimPrefix(w.Error(), path+": "))
	}
	return slos, ws
}

func TestRawErrorRatio(t *testing.T) {
	slos, warnings := read(t, "testdata/raw.yaml")
	assert.Empty(t, warnings)
	require.Len(t, slos, 2)

	a := slos[0]
	assert.Equal(t, "payments-charges-availability", a.Name)
	require.NotNil(t, a.SLI.Metric, "BAD / TOTAL of counters is evaluated in-process")
	assert.Equal(t, `charges_total{outcome="failed"}`, spec.SelectorText(a.SLI.Metric.Bad.MetricName, a.SLI.Metric.Bad.Matchers))
	assert.Equal(t, "charges_total", a.SLI.Metric.Total.MetricName)
	assert.Empty(t, a.ExportOnly())
	assert.Equal(t, "https://runbooks.example/charges", a.Alerting.RunbookURL)
	assert.Equal(t, map[string]string{"team": "billing"}, a.Labels)

	q := slos[1]
	require.NotNil(t, q.SLI.PromQL, "a ratio over a gauge is export-only")
	assert.Nil(t, q.SLI.Metric)
	assert.Contains(t, q.ExportOnly(), "'sli.raw.error_ratio_query' can only be exported as Prometheus rules (obsd slo rules)")
	assert.Contains(t, q.SLI.PromQL.ErrorRatio, "sum(sum_over_time(queue_healthy[{{.window}}]))")
	assert.False(t, q.Alerting.Page.Enabled)
	assert.True(t, q.Alerting.Ticket.Enabled)
}

func TestCRD(t *testing.T) {
	slos, warnings := read(t, "testdata/crd.yaml")
	assert.Empty(t, warnings)
	require.Len(t, slos, 2)

	c := slos[0]
	assert.Equal(t, "checkout-requests-availability", c.Name, "Sloth's id: service-name")
	assert.Equal(t, "checkout", c.Service)
	assert.Equal(t, "Checkout requests succeed.", c.Description)
	assert.InDelta(t, 0.999, c.Objective, 1e-12)
	assert.Equal(t, spec.DefaultPeriod, c.Period)
	assert.Equal(t, map[string]string{"owner": "shop-team"}, c.Labels)
	require.NotNil(t, c.SLI.Metric)
	assert.Equal(t, "http_requests_total", c.SLI.Metric.Bad.MetricName)
	assert.Equal(t, "CheckoutErrors", c.Alerting.Name)
	assert.Equal(t, map[string]string{"severity": "critical"}, c.Alerting.Page.Labels)
	assert.True(t, c.Alerting.Page.Enabled)
	assert.False(t, c.Alerting.Ticket.Enabled)

	s := slos[1]
	assert.Equal(t, "search-latency", s.Name)
	require.NotNil(t, s.SLI.Latency, "COUNT - BUCKET{le} over COUNT is a histogram threshold")
	assert.Equal(t, "search_duration_seconds", s.SLI.Latency.Histogram.MetricName)
	assert.Equal(t, 0.25, s.SLI.Latency.Threshold)
	assert.Equal(t, `search_duration_seconds{job="search"}`, spec.SelectorText(s.SLI.Latency.Histogram.MetricName, s.SLI.Latency.Histogram.Matchers))
}

func TestDecodesLikeSloth(t *testing.T) {
	slos, warnings := read(t, "testdata/lenient.yaml")
	require.Len(t, slos, 1)
	s := slos[0]
	assert.Equal(t, "api-availability", s.Name, "'SERVICE' matches 'service' as in encoding/json")
	assert.InDelta(t, 0.999, s.Objective, 1e-12, "'Objective' matches 'objective'")
	assert.Equal(t, map[string]string{"tier": "1", "critical": "true"}, s.Labels, "scalars become strings, as Kubernetes' YAML does")
	assert.Nil(t, s.Alerting.Page.Labels, "pageAlert is not page_alert: ignored, as Sloth ignores it")
	assert.Equal(t, []string{
		`slo "api-availability": 'alerting.colour' is ignored (Sloth ignores it too): it is not a field of Sloth's spec`,
		`slo "api-availability": 'alerting.pageAlert' is ignored (Sloth ignores it too): did you mean 'alerting.page_alert'?`,
	}, warnings)
}

func TestSLOPluginsWarnAndSLIPluginsAreRefused(t *testing.T) {
	data := []byte(`version: prometheus/v1
service: svc
slo_plugins:
  chain:
    - id: sloth.dev/contrib/denominator_corrected_rules/v1
slos:
  - name: a
    objective: 99
    plugins:
      chain:
        - {id: "sloth.dev/core/debug/v1", config: {msg: hi}}
    sli:
      events:
        error_query: sum(rate(x_total{code="500"}[{{.window}}]))
        total_query: sum(rate(x_total[{{.window}}]))
`)
	slos, warnings, err := Read("p.yaml", data)
	require.NoError(t, err)
	require.Len(t, slos, 1)
	require.Len(t, warnings, 2)
	assert.Contains(t, warnings[0].Error(), `p.yaml: 'slo_plugins.chain[0]' SLO plugin "sloth.dev/contrib/denominator_corrected_rules/v1" is not applied`)
	assert.Contains(t, warnings[1].Error(), `p.yaml: slo "svc-a": 'plugins.chain[0]' SLO plugin "sloth.dev/core/debug/v1" is not applied`)

	_, _, err = Read("p.yaml", []byte("version: prometheus/v1\nservice: svc\nslos:\n  - name: a\n    objective: 99\n    sli:\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `p.yaml: slo "svc-a": 'sli.plugin' "sloth-common/kubernetes/apiserver/availability" is a Sloth SLI plugin`)
	assert.Contains(t, err.Error(), "replace it with 'sli.events'")
}

func TestAlertWindowsAreNotSLOs(t *testing.T) {
	_, _, err := Read("w.yaml", []byte("apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kind AlertWindows")
	assert.Contains(t, err.Error(), "'alerting.page.windows'")
}

// FuzzRead fuzzes both Sloth formats, any number of documents.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"testdata/raw.yaml", "testdata/crd.yaml", "testdata/lenient.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: prometheus/v1\nservice: s\nslos: [{name: a, objective: 99, sli: {raw: {error_ratio_query: 'x'}}}]\n"))
	f.Add([]byte("apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nspec: {slos: [1, 2]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, _, err := Read("fuzz.yaml", data)
		if err == nil && len(slos) == 0 {
			t.Fatal("no error and no slo")
		}
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
			n := 0
			for _, set := range []bool{s.SLI.Metric != nil, s.SLI.Latency != nil, s.SLI.PromQL != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("accepted an slo with %d SLIs", n)
			}
		}
	})
}
