package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

const correlationPipelines = `
    logs:
      receivers: [otlp]
      processors: [memory_limiter, correlation]
      exporters: [otlp_grpc]`

const correlationProcessor = `
  correlation:
    default_policy:
      action: tag
    policies:
      - name: strict
        match:
          service.name: [payments]
        action: drop
        exempt_min_severity: error
`

// TestCorrelationEnforcedOnLogs runs the real obsd with the correlation
// processor in its logs pipeline. JSON-body logs from the OTel Go SDK and
// plain lines from another sender arrive; the sink sees ids lifted (64-bit
// ones padded), records without ids tagged, a drop policy applied except to
// errors, and obsd's /metrics counts every outcome.
func TestCorrelationEnforcedOnLogs(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	cfg := baseConfig(p, s, "", correlationPipelines)
	cfg.YAML = strings.Replace(cfg.YAML, "processors:\n", "processors:\n"+correlationProcessor, 1)
	obsd := harness.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The OTel Go SDK, as an app that logs JSON strings carrying its ids.
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "web"))))
	emit := func(body string, sev otellog.Severity) {
		var rec otellog.Record
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(sev)
		rec.SetBody(attribute.StringValue(body))
		lp.Logger("e2e").Emit(ctx, rec)
	}
	emit(`{"msg":"order loaded","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`, otellog.SeverityInfo)
	emit(`{"msg":"legacy 64-bit","traceId":"A3CE929D0E0E4736"}`, otellog.SeverityInfo)
	emit(`msg="w3c header" traceparent=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01`, otellog.SeverityInfo)
	emit(`{"msg":"all zero","trace_id":"00000000000000000000000000000000"}`, otellog.SeverityInfo)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// Another sender: plain OTLP/HTTP JSON with plain lines, from a service
	// whose policy drops records without ids, errors exempt.
	plain := func(service, severity, line string) {
		body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},
"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityNumber":%s,"body":{"stringValue":%q}}]}]}]}`,
			service, time.Now().UnixNano(), severity, line)
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/logs", p.OTLPHTTP), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /v1/logs: %s", resp.Status)
		}
	}
	plain("batch-job", "9", "plain line without any id")
	plain("payments", "9", "payment accepted, no id")      // dropped by policy
	plain("payments", "17", "payment failed badly, no id") // ERROR: exempt, kept

	harness.Eventually(t, 20*time.Second, func() bool { return s.LogRecordCount() >= 6 },
		"sink has %d log records, want 6", s.LogRecordCount())
	time.Sleep(300 * time.Millisecond) // let a wrongly kept dropped record show up too

	got := map[string]plog.LogRecord{}
	for _, ld := range s.Logs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					got[lr.Body().AsString()] = lr
				}
			}
		}
	}
	if len(got) != 6 {
		t.Errorf("sink has %d distinct records, want 6 (one dropped): %v", len(got), keys(got))
	}
	find := func(substr string) plog.LogRecord {
		for body, lr := range got {
			if strings.Contains(body, substr) {
				return lr
			}
		}
		t.Fatalf("no record containing %q at the sink", substr)
		return plog.LogRecord{}
	}
	cases := []struct {
		record, traceID, spanID, tag string
	}{
		{"order loaded", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "lifted"},
		{"legacy 64-bit", "0000000000000000a3ce929d0e0e4736", "", "lifted"},
		{"w3c header", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", "lifted"},
		{"all zero", "", "", "invalid"},
		{"plain line without any id", "", "", "missing"},
		// An error is exempt from the drop policy: kept as it is, and counted.
		{"payment failed badly", "", "", ""},
	}
	for _, tc := range cases {
		lr := find(tc.record)
		if got := hexOrEmpty(lr.TraceID().IsEmpty(), lr.TraceID().String()); got != tc.traceID {
			t.Errorf("%q: trace id %q, want %q", tc.record, got, tc.traceID)
		}
		if got := hexOrEmpty(lr.SpanID().IsEmpty(), lr.SpanID().String()); got != tc.spanID {
			t.Errorf("%q: span id %q, want %q", tc.record, got, tc.spanID)
		}
		if got := attrString(lr.Attributes(), "obsd.correlation"); got != tc.tag {
			t.Errorf("%q: obsd.correlation = %q, want %q", tc.record, got, tc.tag)
		}
	}
	if _, ok := got["payment accepted, no id"]; ok {
		t.Error("the drop policy let a payments record without an id through")
	}

	harness.Eventually(t, 10*time.Second, func() bool {
		m := obsd.Metrics(t)
		return harness.Sum(m, "obsd_correlation_log_records_total", map[string]string{"service": "web", "outcome": "lifted"}) == 3 &&
			harness.Sum(m, "obsd_correlation_log_records_total", map[string]string{"service": "web", "outcome": "invalid"}) == 1 &&
			harness.Sum(m, "obsd_correlation_invalid_total", map[string]string{"service": "web", "reason": "all_zero"}) == 1 &&
			harness.Sum(m, "obsd_correlation_log_records_total", map[string]string{"service": "payments", "outcome": "missing"}) == 2 &&
			harness.Sum(m, "obsd_correlation_dropped_total", map[string]string{"service": "payments"}) == 1
	}, "obsd's /metrics does not show the correlation outcomes:\n%s", correlationMetrics(t, obsd))
}

func hexOrEmpty(empty bool, s string) string {
	if empty {
		return ""
	}
	return s
}

func correlationMetrics(t *testing.T, obsd *harness.Obsd) string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", obsd.MetricsPort))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "obsd_correlation") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
