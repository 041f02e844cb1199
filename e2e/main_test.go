// Package e2e holds end-to-end tests: each starts the real obsd binary on
// loopback and talks to it with real clients and servers.
package e2e

import (
	"fmt"
	"testing"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

func TestMain(m *testing.M) { harness.Main(m) }

// ports are the loopback ports one obsd instance listens on.
type ports struct {
	OTLPGRPC, OTLPHTTP, Health, Metrics int
}

func newPorts(t *testing.T) ports {
	return ports{
		OTLPGRPC: harness.FreePort(t),
		OTLPHTTP: harness.FreePort(t),
		Health:   harness.FreePort(t),
		Metrics:  harness.FreePort(t),
	}
}

// baseConfig is an obsd config with OTLP in, the sink as the OTLP backend,
// health and self-metrics; extraReceivers and pipelines fill the rest.
func baseConfig(p ports, s *sink.OTLP, extraReceivers, pipelines string) harness.Config {
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
    limit_mib: 512
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
    sending_queue:
      batch:
        flush_timeout: 50ms
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check]
  telemetry:
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
`, p.OTLPGRPC, p.OTLPHTTP, extraReceivers, s.GRPCAddr, p.Health, p.Metrics, pipelines)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

const otlpPipelines = `
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
