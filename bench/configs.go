package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// profile is one configuration of the same obsd binary.
type profile string

const (
	baseline profile = "baseline"
	full     profile = "full"
	// fullMemQ is full with an in-memory sending queue instead of the
	// persistent one: the difference between the two is the price of
	// durability (encode + bbolt write + read back per request).
	fullMemQ profile = "full-memq"
)

// configParams fills the config templates.
type configParams struct {
	OTLPPort, HealthPort, MetricsPort, PprofPort int
	Sink                                         string
	Dir                                          string
	SLOFile                                      string
	Shed                                         bool // the shed processor is compiled in
	Storage                                      bool // persistent sending queue
}

// baselineConfig is what a plain collector does: upstream components only,
// otlp receiver → batch → otlp exporter (in-memory queue, its default).
const baselineConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:{{.OTLPPort}}, max_recv_msg_size_mib: 16}
processors:
  batch: {}
exporters:
  otlp_grpc:
    endpoint: {{.Sink}}
    tls: {insecure: true}
    compression: none
extensions:
  health_check: {endpoint: 127.0.0.1:{{.HealthPort}}}
  pprof: {endpoint: 127.0.0.1:{{.PprofPort}}}
service:
  extensions: [health_check, pprof]
  telemetry:
    logs: {level: warn}
    metrics:
      level: normal
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: {{.MetricsPort}}, without_scope_info: true, without_units: true, without_type_suffix: true}}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp_grpc]}
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp_grpc]}
`

// fullConfig is obsd as shipped: memory_limiter, correlation, the slo
// connector with 100 SLOs fed before shedding, shed, and a persistent
// queue that batches (config.example.yaml's way: the client is answered
// once its data is on disk, so no batch processor sits in front).
const fullConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:{{.OTLPPort}}, max_recv_msg_size_mib: 16}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 200, spike_limit_mib: 40}
  correlation:
    correlation_keys: [request_id]
    default_policy: {action: tag}
{{- if .Shed}}
  shed: {}
{{- end}}
connectors:
  forward/traces: {}
  forward/logs: {}
  slo:
    slos: [{{.SLOFile}}]
    evaluation_interval: 10s
    state: {directory: {{.Dir}}/slo, snapshot_interval: 10s}
exporters:
  otlp_grpc:
    endpoint: {{.Sink}}
    tls: {insecure: true}
    compression: none
    timeout: 10s
    retry_on_failure: {enabled: true, max_elapsed_time: 0s}
    sending_queue:
      enabled: true
{{- if .Storage}}
      storage: file_storage/queue
{{- end}}
      sizer: requests
      queue_size: 20000
      num_consumers: 4
      batch: {flush_timeout: 200ms, sizer: items, min_size: 8192, max_size: 16384}
extensions:
  health_check: {endpoint: 127.0.0.1:{{.HealthPort}}}
  pprof: {endpoint: 127.0.0.1:{{.PprofPort}}}
  file_storage/queue: {directory: {{.Dir}}/queue, create_directory: true}
service:
  extensions: [health_check, pprof, file_storage/queue]
  telemetry:
    logs: {level: warn}
    metrics:
      level: normal
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: {{.MetricsPort}}, without_scope_info: true, without_units: true, without_type_suffix: true}}}
  pipelines:
    traces/in: {receivers: [otlp], processors: [memory_limiter, correlation], exporters: [slo, forward/traces]}
    traces/out: {receivers: [forward/traces], processors: [{{if .Shed}}shed{{end}}], exporters: [otlp_grpc]}
    logs/in: {receivers: [otlp], processors: [memory_limiter, correlation], exporters: [slo, forward/logs]}
    logs/out: {receivers: [forward/logs], processors: [{{if .Shed}}shed{{end}}], exporters: [otlp_grpc]}
    metrics/slo: {receivers: [slo], exporters: [otlp_grpc]}
`

// writeConfig renders a profile's config into dir.
func writeConfig(p profile, params configParams) (string, error) {
	text := baselineConfig
	if p == full || p == fullMemQ {
		text = fullConfig
		params.Storage = p == full
		params.SLOFile = filepath.Join(params.Dir, "slos.yaml")
		if err := os.WriteFile(params.SLOFile, []byte(sloFile()), 0o600); err != nil {
			return "", err
		}
	}
	var b bytes.Buffer
	if err := template.Must(template.New(string(p)).Parse(text)).Execute(&b, params); err != nil {
		return "", err
	}
	path := filepath.Join(params.Dir, "config.yaml")
	return path, os.WriteFile(path, b.Bytes(), 0o600)
}

// sloFile declares 100 span SLOs and 100 log SLOs, one of each per
// (service, route) pair of the load, so every span and every log record
// is counted by exactly one SLO; the log SLIs read the JSON body.
func sloFile() string {
	var b strings.Builder
	b.WriteString("version: obsd/v1\nslos:\n")
	for s := 0; s < services; s++ {
		for r := 0; r < routes; r++ {
			fmt.Fprintf(&b, `  - name: svc-%d-r%d-availability
    service: svc-%d
    objective: 99.5
    sli:
      spans:
        route: '/r/%d'
        bad: {status_error: true, http_5xx: true}
    alerting:
      runbook_url: https://runbooks.example/svc-%d
  - name: svc-%d-r%d-access-log
    service: svc-%d
    objective: 99.5
    sli:
      logs:
        total: '{body.path="/r/%d"}'
        bad: '{body.status=~"5.."}'
    alerting:
      runbook_url: https://runbooks.example/svc-%d
`, s, r, s, r, s, s, r, s, r, s)
		}
	}
	return b.String()
}
