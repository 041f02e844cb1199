package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
)

// TestReadinessFollowsTheExporterCircuits runs obsd with two backends that
// do not answer, each behind its own circuit_breaker, and health_check with
// component status (on by default in obsd): "/" stays ready while one
// circuit is open (held for 2s of probes), answers 5xx once every circuit
// is open, and the liveness path (/?pipeline=traces) stays 200 throughout.
func TestReadinessFollowsTheExporterCircuits(t *testing.T) {
	p := newPorts(t)
	deadTraces, deadLogs := harness.FreePort(t), harness.FreePort(t)
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  otlp_http/traces:
    endpoint: http://127.0.0.1:%d
    middlewares: [{id: circuit_breaker/traces}]
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}
    sending_queue: {enabled: true}
  otlp_http/logs:
    endpoint: http://127.0.0.1:%d
    middlewares: [{id: circuit_breaker/logs}]
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 0s}
    sending_queue: {enabled: true}
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
    component_health:
      include_recoverable_errors: true
      recovery_duration: 0s
  circuit_breaker/traces: {failure_threshold: 1, delay: 1h}
  circuit_breaker/logs: {failure_threshold: 1, delay: 1h}
service:
  extensions: [health_check, circuit_breaker/traces, circuit_breaker/logs]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d, without_scope_info: true, without_units: true, without_type_suffix: true}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_http/traces]
    logs:
      receivers: [otlp]
      exporters: [otlp_http/logs]
`, p.OTLPHTTP, deadTraces, deadLogs, p.Health, p.Metrics)
	o := harness.Start(t, harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics})
	health := func(path string) int {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", p.Health, path))
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	state := func(breaker string) float64 {
		return harness.Sum(o.Metrics(t), "obsd_circuit_breaker_state", map[string]string{"breaker": breaker})
	}
	post := func(path, body string) {
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d%s", p.OTLPHTTP, path), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("post %s: %v", path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post %s: %d", path, resp.StatusCode)
		}
	}

	post("/v1/traces", `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x","flags":1}]}]}]}`)
	harness.Eventually(t, 30*time.Second, func() bool { return state("circuit_breaker/traces") == 2 }, "the traces circuit never opened")
	// A wrong verdict would show as fast as the right one below (once every
	// circuit is open, "/" turns 500 within notReadyAfter): "/" must stay
	// 200 for readyHold, many times that.
	const readyHold = 2 * time.Second
	probes := 0
	for end := time.Now().Add(readyHold); time.Now().Before(end); probes++ {
		if got := health("/"); got != http.StatusOK {
			t.Fatalf("one circuit of two open: / answered %d after %d probes, want 200 (the logs backend may still take data)", got, probes)
		}
		time.Sleep(20 * time.Millisecond)
	}

	post("/v1/logs", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"},"severityNumber":9}]}]}]}`)
	harness.Eventually(t, 30*time.Second, func() bool { return state("circuit_breaker/logs") == 2 }, "the logs circuit never opened")
	opened := time.Now()
	harness.Eventually(t, 30*time.Second, func() bool { return health("/") >= 500 }, "every circuit open but / still answers %d", health("/"))
	notReadyAfter := time.Since(opened)
	if got := health("/?pipeline=traces"); got != http.StatusOK {
		t.Errorf("liveness path answered %d with every circuit open, want 200", got)
	}
	t.Logf("one circuit open: / 200 on %d probes over %s; every circuit open: / %d within %s of the logs circuit reading open, /?pipeline=traces %d",
		probes, readyHold, health("/"), notReadyAfter.Round(time.Millisecond), health("/?pipeline=traces"))
}
