package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// shedSLO counts every server span of service web.
const shedSLO = `version: obsd/v1
slos:
  - name: web-availability
    service: web
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true}
    alerting:
      runbook_url: https://runbooks.example/web
`

// TestShedUnderPressure runs obsd with a shed processor whose memory limit
// (1 MiB) is always exceeded, so it sheds at its highest level, in the
// pipelines config.example.yaml uses: the slo processor counts the traces
// in line and shed sits behind it; logs shed last. Only the low-priority
// items are dropped, each counted by reason, and the SLO counted every
// span, the shed one included.
func TestShedUnderPressure(t *testing.T) {
	p := newPorts(t)
	s := sink.NewOTLP(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(shedSLO), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  slo: {}
  shed:
    memory_limit_mib: 1
    protect:
      - key: service.name
        values: [checkout]
exporters:
  otlp_grpc:
    endpoint: %s
    tls: {insecure: true}
connectors:
  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d, without_scope_info: true, without_units: true, without_type_suffix: true}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [slo, shed]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp]
      processors: [shed]
      exporters: [otlp_grpc]
`, p.OTLPHTTP, s.GRPCAddr, p.Health, p.Metrics)
	o := harness.StartInDir(t, dir, harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics})
	post := func(path, body string) {
		t.Helper()
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", p.OTLPHTTP, path), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("post %s: %v", path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post %s: %d", path, resp.StatusCode)
		}
	}
	span := func(name string, flags int, status int) string {
		end := time.Now().UnixNano()
		return fmt.Sprintf(`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607%02x","name":%q,"kind":2,"flags":%d,"status":{"code":%d},"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}`,
			len(name), name, flags, status, end-int64(time.Millisecond), end)
	}
	post("/v1/traces", `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},"scopeSpans":[{"spans":[`+
		span("sampled", 257, 0)+","+span("unsampled", 256, 0)+","+span("unsampled-error", 256, 2)+`]}]},`+
		`{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[`+span("protected", 256, 0)+`]}]}]}`)
	logRec := func(body string, sev int) string {
		return fmt.Sprintf(`{"body":{"stringValue":%q},"severityNumber":%d}`, body, sev)
	}
	post("/v1/logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[`+
		logRec("debug", 5)+","+logRec("info", 9)+","+logRec("warn", 13)+","+logRec("error", 17)+`]}]}]}`)

	harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() == 3 && s.LogRecordCount() == 2 },
		"sink has %d spans and %d logs, want 3 and 2", s.SpanCount(), s.LogRecordCount())
	var names []string
	for _, td := range s.Traces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			sss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				for k := 0; k < sss.At(j).Spans().Len(); k++ {
					names = append(names, sss.At(j).Spans().At(k).Name())
				}
			}
		}
	}
	if got := strings.Join(names, ","); got != "sampled,unsampled-error,protected" {
		t.Errorf("spans delivered: %s, want sampled,unsampled-error,protected", got)
	}
	m := o.Metrics(t)
	for _, c := range []struct {
		signal, reason string
		want           float64
	}{{"traces", "unsampled_span", 1}, {"logs", "debug_log", 1}, {"logs", "info_log", 1}} {
		if got := harness.Sum(m, "obsd_shed_items_total", map[string]string{"signal": c.signal, "reason": c.reason}); got != c.want {
			t.Errorf("obsd_shed_items_total{signal=%s,reason=%s} = %v, want %v", c.signal, c.reason, got, c.want)
		}
	}
	if got := harness.Sum(m, "obsd_shed_level", map[string]string{"signal": "logs"}); got != 3 {
		t.Errorf("obsd_shed_level{signal=logs} = %v, want 3", got)
	}
	// The SLO saw the three spans of web before shed dropped one.
	sel := map[string]string{"slo": "web-availability"}
	harness.Eventually(t, 20*time.Second, func() bool {
		m := o.Metrics(t)
		return harness.Sum(m, "obsd_slo_events_total", sel) == 3 && harness.Sum(m, "obsd_slo_bad_events_total", sel) == 1
	}, "the SLO did not count the 3 spans of web (1 bad), the shed one included")
	t.Logf("delivered spans %v, logs %d; shed: 1 unsampled span, 1 debug log, 1 info log", names, s.LogRecordCount())
}
