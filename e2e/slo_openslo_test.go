package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// sloOpenSLOFile is an OpenSLO v1 SLO whose SLI counts good requests: obsd
// turns "good = total plus code!~5.." into "bad = total plus code=~5..".
// Its one burn-rate condition (24m lookback, so a 2m short window) pages.
const sloOpenSLOFile = `apiVersion: openslo/v1
kind: SLI
metadata:
  name: pay-good
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{route="/pay",code!~"5.."}[5m]))
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(http_requests_total{route="/pay"}[5m]))
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: pay-availability
  annotations:
    runbook_url: https://runbooks.example/pay
spec:
  service: pay
  indicatorRef: pay-good
  timeWindow:
    - duration: 1h
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
  alertPolicies:
    - kind: AlertPolicy
      metadata:
        name: pay-page
      spec:
        conditions:
          - kind: AlertCondition
            metadata:
              name: pay-fast-burn
            spec:
              severity: page
              condition: {kind: burnrate, op: gte, threshold: 2, lookbackWindow: 24m}
`

// TestOpenSLOFileRunsInTheConnector: the real binary loads an OpenSLO
// file as an SLO source; OTLP counters are counted as total and bad events
// through the good-to-bad mapping, and the burn-rate condition pages.
func TestOpenSLOFileRunsInTheConnector(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(sloOpenSLOFile), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sink.NewOTLP(t)
	p := newPorts(t)
	pipelines := `
    metrics:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]`
	obsd := harness.StartInDir(t, dir, baseConfig(p, s, sloConnectorConfig(""), pipelines))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatalf("metric exporter: %v", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "pay"))))
	counter, err := mp.Meter("e2e-openslo").Int64Counter("http_requests_total")
	if err != nil {
		t.Fatalf("counter: %v", err)
	}
	counter.Add(ctx, 30, otelmetricAttrs("route", "/pay", "code", "200"))
	counter.Add(ctx, 20, otelmetricAttrs("route", "/pay", "code", "503"))
	counter.Add(ctx, 7, otelmetricAttrs("route", "/other", "code", "503"))
	if err := mp.Shutdown(ctx); err != nil {
		t.Fatalf("flush metrics: %v", err)
	}

	sel := map[string]string{"slo": "pay-availability", "service": "pay"}
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last values: %s\nobsd output:\n%s", last, obsd.Output())
		}
	}()
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		last = fmt.Sprintf("events %v bad %v page %v", harness.Sum(m, "obsd_slo_events_total", sel),
			harness.Sum(m, "obsd_slo_bad_events_total", sel), harness.Sum(m, "obsd_slo_alert_active", with(sel, "severity", "page")))
		return harness.Sum(m, "obsd_slo_events_total", sel) == 50 &&
			harness.Sum(m, "obsd_slo_bad_events_total", sel) == 20 &&
			harness.Sum(m, "obsd_slo_alert_active", with(sel, "severity", "page")) == 1
	}, "obsd's /metrics never showed 50 events, 20 bad and the page firing for the OpenSLO SLO")
}

// otelmetricAttrs is a counter option with string attributes k1, v1, k2, v2...
func otelmetricAttrs(kv ...string) metric.AddOption {
	attrs := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attribute.String(kv[i], kv[i+1]))
	}
	return metric.WithAttributes(attrs...)
}
