package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.yaml.in/yaml/v3"

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

// shedWithSLOsFile: an availability SLO on web's spans and an error SLO on
// worker's logs, both over everything received.
const shedWithSLOsFile = `version: obsd/v1
slos:
  - name: web-availability
    service: web
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true}
  - name: worker-errors
    service: worker
    objective: 99
    period: 1h
    sli:
      logs:
        min_severity: ERROR
`

// TestShedAfterTheSLOConnectorKeepsSLOsExact runs shed under pressure (its
// limit, 1 MiB, always exceeded: it sheds at its highest level) with the
// slo connector, in config.example.yaml's pipeline shape: the slo
// processor counts traces and logs in line, into the slo connector's
// engine, and shed runs after it. The SLOs count every span and record received, the
// bad ones included, although shed drops the unsampled spans and the DEBUG
// and INFO records before the backend; every item is accounted for
// (received = forwarded + shed, by reason).
func TestShedAfterTheSLOConnectorKeepsSLOsExact(t *testing.T) {
	checkExampleShedsAfterSLO(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(shedWithSLOsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPorts(t)
	s := sink.NewOTLP(t)
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  shed:
    memory_limit_mib: 1
  slo: {}
exporters:
  otlp_grpc:
    endpoint: %s
    tls: {insecure: true}
    sending_queue:
      batch: {flush_timeout: 50ms}
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
      processors: [memory_limiter, slo, shed]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, slo, shed]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]
`, p.OTLPHTTP, s.GRPCAddr, p.Health, p.Metrics)
	o := harness.StartInDir(t, dir, harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics})

	// Spans of web: 100 sampled, 150 unsampled, 50 unsampled errors.
	const sampled, unsampled, unsampledErrors = 100, 150, 50
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "web")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	end := pcommon.NewTimestampFromTime(time.Now())
	for i := range sampled + unsampled + unsampledErrors {
		sp := spans.AppendEmpty()
		sp.SetName("GET /")
		sp.SetStartTimestamp(end - 1e6)
		sp.SetEndTimestamp(end)
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetTraceID(pcommon.TraceID{1, byte(i >> 8), byte(i)})
		sp.SetSpanID(pcommon.SpanID{2, byte(i >> 8), byte(i)})
		if i < sampled {
			sp.SetFlags(1) // W3C sampled
		}
		if i >= sampled+unsampled {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.OTLPHTTP), "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/traces: %s", resp.Status)
	}
	// Records of worker: 100 DEBUG, 150 INFO, 100 WARN, 50 ERROR.
	const debugs, infos, warns, errs = 100, 150, 100, 50
	var lines []logLine
	for _, c := range []struct {
		n   int
		sev plog.SeverityNumber
	}{{debugs, plog.SeverityNumberDebug}, {infos, plog.SeverityNumberInfo}, {warns, plog.SeverityNumberWarn}, {errs, plog.SeverityNumberError}} {
		for i := range c.n {
			lines = append(lines, logLine{body: fmt.Sprintf("%s %d", c.sev, i), sev: c.sev})
		}
	}
	postLogs(t, p, "worker", lines...)

	received := sampled + unsampled + unsampledErrors
	forwardedSpans := sampled + unsampledErrors
	forwardedLogs := warns + errs
	type want struct {
		name   string
		labels map[string]string
		value  float64
	}
	wants := []want{
		{"obsd_slo_events_total", map[string]string{"slo": "web-availability"}, float64(received)},
		{"obsd_slo_bad_events_total", map[string]string{"slo": "web-availability"}, unsampledErrors},
		{"obsd_slo_events_total", map[string]string{"slo": "worker-errors"}, debugs + infos + warns + errs},
		{"obsd_slo_bad_events_total", map[string]string{"slo": "worker-errors"}, errs},
		{"obsd_shed_items_total", map[string]string{"signal": "traces", "reason": "unsampled_span"}, unsampled},
		{"obsd_shed_items_total", map[string]string{"signal": "logs", "reason": "debug_log"}, debugs},
		{"obsd_shed_items_total", map[string]string{"signal": "logs", "reason": "info_log"}, infos},
	}
	var last string
	harness.Eventually(t, 30*time.Second, func() bool {
		m := o.Metrics(t)
		last = fmt.Sprintf("sink: %d spans (want %d), %d logs (want %d)\n", s.SpanCount(), forwardedSpans, s.LogRecordCount(), forwardedLogs)
		ok := s.SpanCount() == forwardedSpans && s.LogRecordCount() == forwardedLogs
		for _, w := range wants {
			got := harness.Sum(m, w.name, w.labels)
			last += fmt.Sprintf("%s%v = %v (want %v)\n", w.name, w.labels, got, w.value)
			ok = ok && got == w.value
		}
		return ok
	}, "SLO counts, shed counts and deliveries never added up:\n%s", lazy(func() string { return last }))
	t.Logf("shed under pressure behind the slo connector:\n%s", last)
}

// checkExampleShedsAfterSLO checks that config.example.yaml has the shape
// the test runs: every pipeline with shed runs the slo processor before it.
func checkExampleShedsAfterSLO(t *testing.T) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Service struct {
			Pipelines map[string]struct {
				Receivers, Processors, Exporters []string
			}
		}
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	shedding := 0
	for name, pl := range cfg.Service.Pipelines {
		at := slices.Index(pl.Processors, "shed")
		if at < 0 {
			continue
		}
		shedding++
		if !slices.Contains(pl.Processors[:at], "slo") {
			t.Errorf("config.example.yaml: pipeline %s sheds before the slo processor counted: %v", name, pl.Processors)
		}
	}
	if shedding == 0 {
		t.Errorf("config.example.yaml has no pipeline with shed: this test no longer runs its shape")
	}
}
