package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// sloSpansFile is a span SLO with a short page window pair, so that a burst
// of errors pages within a few one-second evaluations. The short window is
// 2m, not 1m: windows cover whole 1m slices, so a 1m window drops a burst as
// soon as the next minute starts, and a burst sent at second 59 would page
// for less than a second.
const sloSpansFile = `version: obsd/v1
slos:
  - name: checkout-availability
    service: checkout
    objective: 99
    period: 1h
    labels: {team: payments}
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/checkout
      min_events: 5
      page:
        windows:
          - {long: 5m, short: 2m, burn_rate: 2}
      ticket:
        enabled: false
`

// sloConnectorConfig is the connectors section of an obsd config running
// the slo connector on the SLO file in the instance directory; alerting
// is extra YAML under the connector (indented by four spaces).
func sloConnectorConfig(alerting string) string {
	return `connectors:
  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: 1s
` + alerting
}

const sloPipelines = `
    traces:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]`

// sendServerSpans sends n server spans of service svc; failed ones carry
// status Error and HTTP 500.
func sendServerSpans(t *testing.T, p ports, svc string, n int, failed bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatalf("trace exporter: %v", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", svc))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	tracer := tp.Tracer("e2e-slo")
	for i := range n {
		_, span := tracer.Start(ctx, "POST /pay", trace.WithSpanKind(trace.SpanKindServer))
		span.SetAttributes(attribute.Int("seq", i), attribute.String("http.route", "/pay"))
		if failed {
			span.SetAttributes(attribute.Int("http.response.status_code", 500))
			span.SetStatus(codes.Error, "payment failed")
		}
		span.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("flush spans: %v", err)
	}
}

func writeSLOFile(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(sloSpansFile), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSLOBurstPagesAndCountsSurviveKill: a burst of failing server spans
// drives the burn rate over the page factor and fires the page on obsd's
// /metrics; after SIGKILL and a restart on the same state directory the
// event counters still hold the burst.
func TestSLOBurstPagesAndCountsSurviveKill(t *testing.T) {
	const spans = 40
	dir := t.TempDir()
	writeSLOFile(t, dir)
	s := sink.NewOTLP(t)
	p := newPorts(t)
	obsd := harness.StartInDir(t, dir, baseConfig(p, s, sloConnectorConfig(""), sloPipelines))

	sendServerSpans(t, p, "checkout", spans, true)

	sel := map[string]string{"slo": "checkout-availability", "service": "checkout", "team": "payments"}
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last values: %s\nobsd output:\n%s", last, obsd.Output())
		}
	}()
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		last = fmt.Sprintf("events %v bad %v burn5m %v burn1h %v page %v points %v",
			harness.Sum(m, "obsd_slo_events_total", sel), harness.Sum(m, "obsd_slo_bad_events_total", sel),
			harness.Sum(m, "obsd_slo_burn_rate", with(sel, "window", "5m")), harness.Sum(m, "obsd_slo_burn_rate", with(sel, "window", "1h")),
			harness.Sum(m, "obsd_slo_alert_active", with(sel, "severity", "page")), harness.Sum(m, "obsd_slo_points_total", nil))
		return harness.Sum(m, "obsd_slo_events_total", sel) == spans &&
			harness.Sum(m, "obsd_slo_bad_events_total", sel) == spans &&
			harness.Sum(m, "obsd_slo_burn_rate", with(sel, "window", "5m")) > 2 &&
			harness.Sum(m, "obsd_slo_alert_active", with(sel, "severity", "page")) == 1
	}, "obsd's /metrics never showed %d bad events with a burn rate over 2 and the page firing", spans)

	m := obsd.Metrics(t)
	if got := harness.Sum(m, "obsd_slo_objective_ratio", sel); got != 0.99 {
		t.Errorf("obsd_slo_objective_ratio = %v, want 0.99", got)
	}
	if got := harness.Sum(m, "obsd_slo_alert_active", with(sel, "severity", "ticket")); got != 0 {
		t.Errorf("the disabled ticket is active: %v", got)
	}
	if got := harness.Sum(m, "obsd_slo_points_total", map[string]string{"outcome": "counted"}); got != spans {
		t.Errorf("obsd_slo_points_total{outcome=counted} = %v, want %d", got, spans)
	}
	// The connector's metrics also go down its metrics pipeline.
	harness.Eventually(t, 20*time.Second, func() bool { return s.DataPointCount() > 0 },
		"the sink never received the connector's metrics")

	// Let one more snapshot interval pass, then die without a shutdown.
	time.Sleep(2 * time.Second)
	obsd.Kill()
	obsd.Restart()

	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		return harness.Sum(m, "obsd_slo_events_total", sel) == spans &&
			harness.Sum(m, "obsd_slo_bad_events_total", sel) == spans
	}, "after kill -9 and restart the SLO counters do not hold the %d events", spans)
}

// with returns a copy of m with one more label.
func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}
