// Package backends holds end-to-end tests of the real obsd binary against
// real backends on loopback: VictoriaLogs (Loki push API and OTLP logs),
// Jaeger (OTLP traces) and Prometheus (remote write), each fed by obsd on
// the shipped config's shape (persistent queue on file_storage, circuit
// breaker, retries for ever) and read back through the backend's own query
// API, as an operator would check it. The backends are started by
// internal/vltest, internal/jaegertest and internal/promtest; a missing one
// fails the test with the command that installs it. Independent tests run
// in parallel.
package backends

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/obsd-dev/obsd/e2e/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// ports are the loopback ports one obsd instance listens on.
type ports struct {
	GRPC, HTTP, Health, Metrics int
}

func newPorts(t *testing.T) ports {
	return ports{GRPC: harness.FreePort(t), HTTP: harness.FreePort(t), Health: harness.FreePort(t), Metrics: harness.FreePort(t)}
}

// obsdConfig is an obsd config in the shape of config.example.yaml: OTLP
// in, memory_limiter first, every exporter with a persistent queue on
// file_storage/queue, retries for ever and a circuit breaker of its own.
type obsdConfig struct {
	// Receivers is extra YAML under receivers: (two-space indent), next to otlp.
	Receivers string
	// Exporters are the exporters, each built by one of the *Exporter helpers.
	Exporters []exporter
	// Connectors is YAML under connectors: (two-space indent).
	Connectors string
	// Pipelines is YAML under service.pipelines (four-space indent).
	Pipelines string
}

// exporter is one exporter's YAML and the name of its circuit breaker.
type exporter struct {
	yaml, breaker string
}

// Test timings: a retry at most every 2s and a breaker that probes after
// 3s, so a backend that comes back is used again within seconds (the
// shipped config has 30s and 15s).
const (
	retryYAML = `    retry_on_failure:
      enabled: true
      initial_interval: 200ms
      max_interval: 2s
      max_elapsed_time: 0s
`
	queueYAML = `    sending_queue:
      enabled: true
      storage: file_storage/queue
      sizer: requests
      queue_size: 5000
      num_consumers: 4
      batch:
        flush_timeout: 200ms
        sizer: items
        min_size: 2048
        max_size: 8192
`
)

func breakerOf(name string) string { return "circuit_breaker/" + strings.ReplaceAll(name, "/", "_") }

// lokiExporter is obsd's loki exporter pushing to url; extra is YAML at
// four-space indent (labels, tenant_map, max_request_size...).
func lokiExporter(name, url, extra string) exporter {
	return exporter{fmt.Sprintf("  %s:\n    endpoint: %s\n    timeout: 10s\n    middlewares: [{id: %s}]\n%s%s%s",
		name, url, breakerOf(name), extra, retryYAML, queueYAML), breakerOf(name)}
}

// otlpHTTPExporter is otlp_http to endpoint, with extra YAML (headers).
func otlpHTTPExporter(name, endpoint, extra string) exporter {
	return exporter{fmt.Sprintf("  %s:\n    endpoint: %s\n    timeout: 10s\n    middlewares: [{id: %s}]\n%s%s%s",
		name, endpoint, breakerOf(name), extra, retryYAML, queueYAML), breakerOf(name)}
}

// otlpGRPCExporter is otlp_grpc to addr (host:port), zstd as shipped.
func otlpGRPCExporter(name, addr string) exporter {
	return exporter{fmt.Sprintf("  %s:\n    endpoint: %s\n    tls:\n      insecure: true\n    compression: zstd\n    timeout: 10s\n    middlewares: [{id: %s}]\n%s%s",
		name, addr, breakerOf(name), retryYAML, queueYAML), breakerOf(name)}
}

// remoteWriteExporter is prometheus_remote_write to url, as shipped: no
// otel_scope_* labels, its own in-memory queue (the exporter has no
// sending_queue), retries for ever.
func remoteWriteExporter(name, url string) exporter {
	return exporter{fmt.Sprintf("  %s:\n    endpoint: %s\n    timeout: 10s\n    disable_scope_info: true\n    translation_strategy: UnderscoreEscapingWithoutSuffixes\n    middlewares: [{id: %s}]\n%s    remote_write_queue:\n      enabled: true\n      queue_size: 10000\n      num_consumers: 2\n",
		name, url, breakerOf(name), retryYAML), breakerOf(name)}
}

func (c obsdConfig) harness(p ports) harness.Config {
	var exps, breakers, ids strings.Builder
	for _, e := range c.Exporters {
		exps.WriteString(e.yaml)
		fmt.Fprintf(&breakers, "  %s:\n    failure_threshold: 5\n    delay: 3s\n    success_threshold: 2\n", e.breaker)
		ids.WriteString(", " + e.breaker)
	}
	connectors := ""
	if c.Connectors != "" {
		connectors = "connectors:\n" + c.Connectors
	}
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
%s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 400
    spike_limit_mib: 80
exporters:
%s%s
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  file_storage/queue:
    directory: "{{DIR}}/queue"
    create_directory: true
    timeout: 5s
%s
service:
  extensions: [health_check, file_storage/queue%s]
  telemetry:
    logs:
      level: info
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
                without_scope_info: true
                without_units: true
                without_type_suffix: true
  pipelines:
%s
`, p.GRPC, p.HTTP, c.Receivers, exps.String(), connectors, p.Health, breakers.String(), ids.String(), p.Metrics, c.Pipelines)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// startObsd runs obsd on c and prints its output's tail when the test fails.
func startObsd(t *testing.T, c obsdConfig) (*harness.Obsd, ports) {
	t.Helper()
	p := newPorts(t)
	o := harness.Start(t, c.harness(p))
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			t.Logf("obsd output (tail):\n%s", out)
		}
	})
	return o, p
}

// dial opens a gRPC connection to obsd's OTLP receiver.
func dial(t *testing.T, port int) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial obsd: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// exportLogs sends ld over OTLP/gRPC; nil means obsd acknowledged it.
func exportLogs(conn *grpc.ClientConn, ld plog.Logs) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	return err
}

// exportTraces sends td over OTLP/gRPC; nil means obsd acknowledged it.
func exportTraces(conn *grpc.ClientConn, td ptrace.Traces) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	return err
}

// counter sums one of obsd's own counters over the series with labels want.
func counter(t *testing.T, o *harness.Obsd, name string, want map[string]string) float64 {
	t.Helper()
	return harness.Sum(o.Metrics(t), name, want)
}
