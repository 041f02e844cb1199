package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/obsd-dev/obsd/dashboards"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/slo/formats"
)

// dashboardMetricsNotExercised are metric names the dashboards use that
// this scenario cannot make obsd expose, each with the reason.
var dashboardMetricsNotExercised = map[string]string{
	"obsd_shed_items_total":                      "the shed processor is not configured here (covered by TestShedUnderPressure)",
	"obsd_ratelimit_requests_total":              "the ratelimit extension is not configured here (covered by TestRateLimit)",
	"obsd_alerts_sent_total":                     "no alerting destination configured here",
	"obsd_alerts_queue_depth":                    "no alerting destination configured here",
	"obsd_alerts_circuit_state":                  "no alerting destination configured here",
	"otelcol_exporter_send_failed_spans":         "recorded only when an export fails",
	"otelcol_exporter_send_failed_metric_points": "recorded only when an export fails",
	"otelcol_exporter_send_failed_log_records":   "recorded only when an export fails",
}

const dashboardsPipelines = `
    traces:
      receivers: [otlp]
      exporters: [slo, otlp_grpc]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, correlation]
      exporters: [otlp_grpc]`

// TestDashboardMetricNamesAreExposedByObsd generates the dashboards for
// the SLO file obsd runs, sends spans, metrics and logs, and checks that
// every metric name a dashboard panel queries is on obsd's /metrics
// (except the ones listed in dashboardMetricsNotExercised).
func TestDashboardMetricNamesAreExposedByObsd(t *testing.T) {
	dir := t.TempDir()
	writeSLOFile(t, dir)
	slos, err := formats.Load(filepath.Join(dir, "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dashboards.Dashboards(slos)
	if err != nil {
		t.Fatal(err)
	}
	names, err := dashboards.MetricNames(ds...)
	if err != nil {
		t.Fatal(err)
	}

	s := sink.NewOTLP(t)
	p := newPorts(t)
	cfg := baseConfig(p, s, sloConnectorConfig(""), dashboardsPipelines)
	cfg.YAML = strings.Replace(cfg.YAML, "processors:\n", "processors:\n"+correlationProcessor, 1)
	obsd := harness.StartInDir(t, dir, cfg)

	sendServerSpans(t, p, "checkout", 20, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"))
	sendMetrics(ctx, t, "http", p, res)
	sendLogs(ctx, t, "http", p, res)

	var missing []string
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		missing = missing[:0]
		for _, n := range names {
			if _, ok := m[n]; !ok && dashboardMetricsNotExercised[n] == "" {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0
	}, "dashboards query metrics obsd does not expose: %v", &missing)
	for n := range dashboardMetricsNotExercised {
		found := false
		for _, u := range names {
			found = found || u == n
		}
		if !found {
			t.Errorf("%s is listed as not exercised but no dashboard uses it", n)
		}
	}
}
