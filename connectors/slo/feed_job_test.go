package slo

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/obsd-dev/obsd/slo/contract"
)

// An SLO written for Prometheus selects its target with job and instance;
// the prometheus receiver moves those into service.name (with
// service.namespace) and service.instance.id. The connector must match
// the same series.
func TestPrometheusJobAndInstanceMatchTheirResourceAttributes(t *testing.T) {
	dir := t.TempDir()
	slos := `version: obsd/v1
slos:
  - name: by-job
    service: api
    objective: 99
    period: 1h
    sli:
      metric:
        bad: 'http_requests_total{job="shop/api",instance="10.0.0.1:8080",code=~"5.."}'
        total: 'http_requests_total{job="shop/api",instance="10.0.0.1:8080"}'
`
	require.NoError(t, os.WriteFile(dir+"/slos.yaml", []byte(slos), 0o600))
	cfg := testConfig(t.TempDir())
	cfg.SLOs = []string{dir + "/slos.yaml"}
	h := newHarness(t, cfg, t0)
	cum := pmetric.AggregationTemporalityCumulative
	scraped := func(namespace, instance string, ok, failed float64) pmetric.Metrics {
		md := sumMetric("http_requests_total", cum, t0.Add(time.Second), t0.Add(10*time.Second), pt{"200", "eu", ok}, pt{"500", "eu", failed})
		res := md.ResourceMetrics().At(0).Resource().Attributes()
		res.PutStr("service.namespace", namespace)
		res.PutStr("service.instance.id", instance)
		return md
	}
	ctx := context.Background()
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, scraped("shop", "10.0.0.1:8080", 90, 10)))
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, scraped("shop", "10.0.0.2:8080", 900, 100)), "another instance")
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, scraped("other", "10.0.0.1:8080", 900, 100)), "another namespace: another job")
	h.evaluate(t0.Add(time.Minute))
	sel := map[string]string{"slo": "by-job"}
	events, ok := h.telemetry(contract.MetricEvents, sel)
	require.True(t, ok, "the SLO counted nothing: job/instance did not match")
	bad, _ := h.telemetry(contract.MetricBadEvents, sel)
	assert.Equal(t, 100.0, events, "only job shop/api on instance 10.0.0.1:8080")
	assert.Equal(t, 10.0, bad)
}
