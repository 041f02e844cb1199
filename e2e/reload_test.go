package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestReloadValidatesBeforeSwapping: SIGHUP with a broken config file leaves
// obsd serving on the old config and saying why; SIGHUP with a good one
// applies it.
func TestReloadValidatesBeforeSwapping(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	cfg := baseConfig(p, s, "", otlpPipelines)
	obsd := harness.Start(t, cfg)

	postSpan := func(port int, name string) int {
		body := fmt.Sprintf(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":%q}]}]}]}`, name)
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), "application/json", strings.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	reload := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(obsd.ConfigPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := obsd.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	// A broken config: a pipeline names an exporter that is not defined.
	reload(strings.Replace(cfg.YAML, "exporters: [otlp_grpc]", "exporters: [otlp_grpc, otlp_grpc/undefined]", 1))
	if !obsd.WaitOutput("Refusing the reloaded config", 15*time.Second) {
		t.Fatalf("obsd did not say it refused the broken config:\n%s", obsd.Output())
	}
	if !strings.Contains(obsd.Output(), "otlp_grpc/undefined") {
		t.Errorf("the refusal does not name the problem (otlp_grpc/undefined)")
	}
	if !obsd.Running() {
		t.Fatalf("obsd exited on a broken config reload:\n%s", obsd.Output())
	}
	if code := postSpan(p.OTLPHTTP, "after-bad-reload"); code != http.StatusOK {
		t.Fatalf("after a refused reload, POST /v1/traces = %d, want 200", code)
	}
	harness.Eventually(t, 10*time.Second, func() bool { _, ok := spansByName(s)["after-bad-reload"]; return ok },
		"a span sent after the refused reload did not reach the sink")

	// A good config that moves the OTLP/HTTP receiver to another port.
	newPort := harness.FreePort(t)
	reload(strings.Replace(cfg.YAML, fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP), fmt.Sprintf("127.0.0.1:%d", newPort), 1))
	if !obsd.WaitOutput("Reloaded config is valid", 15*time.Second) {
		t.Fatalf("obsd did not apply the good config:\n%s", obsd.Output())
	}
	harness.Eventually(t, 10*time.Second, func() bool { return postSpan(newPort, "after-good-reload") == http.StatusOK },
		"the receiver did not move to port %d", newPort)
	harness.Eventually(t, 10*time.Second, func() bool { _, ok := spansByName(s)["after-good-reload"]; return ok },
		"a span sent after the good reload did not reach the sink")
}

// TestReloadOfOnlyReceiversKeepsExportersRunning: a SIGHUP whose new config
// changes only a receiver (the OTLP/HTTP port) restarts only that receiver.
// The exporter behind it keeps running through the reload: its in-memory
// queue keeps the batches it was retrying (a restarted exporter would drop
// them), its circuit breaker stays open with the same transition count (a
// restarted one starts closed, its counters at 0) and goes on rejecting
// its retries, and the service itself was started once.
func TestReloadOfOnlyReceiversKeepsExportersRunning(t *testing.T) {
	s := sink.NewOTLP(t)
	s.Fail(codes.Unavailable)
	p := newPorts(t)
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  otlp_grpc:
    endpoint: %s
    tls: {insecure: true}
    middlewares: [{id: circuit_breaker}]
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 0s}
    sending_queue: {enabled: true, sizer: requests, queue_size: 1000}
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  circuit_breaker: {failure_threshold: 1, delay: 1h}
service:
  extensions: [health_check, circuit_breaker]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d, without_scope_info: true, without_units: true, without_type_suffix: true}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc]
`, p.OTLPHTTP, s.GRPCAddr, p.Health, p.Metrics)
	obsd := harness.Start(t, harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics})
	post := func(port int, name string) int {
		body := fmt.Sprintf(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":%q}]}]}]}`, name)
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), "application/json", strings.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// exporterState is what a restart of the exporter would reset.
	type exporterState struct{ queued, opened, state, rejected float64 }
	read := func() exporterState {
		m := obsd.Metrics(t)
		return exporterState{
			queued:   harness.Sum(m, "otelcol_exporter_queue_size", nil),
			opened:   harness.Sum(m, "obsd_circuit_breaker_transitions_total", map[string]string{"to": "open"}),
			state:    harness.Sum(m, "obsd_circuit_breaker_state", nil),
			rejected: harness.Sum(m, "obsd_circuit_breaker_rejected_total", nil),
		}
	}
	const queued = 5
	for i := range queued {
		if code := post(p.OTLPHTTP, fmt.Sprintf("before-%d", i)); code != http.StatusOK {
			t.Fatalf("POST before the reload = %d", code)
		}
	}
	var before exporterState
	harness.Eventually(t, 20*time.Second, func() bool {
		before = read()
		return before.queued == queued && before.state == 2 && before.opened == 1 && before.rejected > 0
	}, "the exporter did not hold %d requests behind an open circuit: %+v", queued, before)
	starts := strings.Count(obsd.Output(), "Everything is ready")

	newPort := harness.FreePort(t)
	if err := os.WriteFile(obsd.ConfigPath, []byte(strings.Replace(yaml, fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP), fmt.Sprintf("127.0.0.1:%d", newPort), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := obsd.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 15*time.Second, func() bool { return post(newPort, "after") == http.StatusOK },
		"the receiver did not move to port %d", newPort)
	if code := post(p.OTLPHTTP, "old-port"); code != 0 {
		t.Errorf("the old receiver port still answers %d after the reload", code)
	}
	after := read()
	t.Logf("exporter before the reload %+v, after %+v; service starts %d then %d", before, after, starts, strings.Count(obsd.Output(), "Everything is ready"))
	if after.queued != queued+1 {
		t.Errorf("exporter queue holds %v requests after the reload, want the %d from before plus the new one: the exporter was restarted", after.queued, queued)
	}
	if after.state != 2 || after.opened != before.opened {
		t.Errorf("circuit after the reload: state %v, %v transitions to open; want still open (2) with %v: the extension was restarted", after.state, after.opened, before.opened)
	}
	if after.rejected < before.rejected {
		t.Errorf("obsd_circuit_breaker_rejected_total went from %v to %v: the breaker was restarted", before.rejected, after.rejected)
	}
	if n := strings.Count(obsd.Output(), "Everything is ready"); n != starts {
		t.Errorf("the service was started %d times, %d before the reload: the reload restarted everything", n, starts)
	}
}
