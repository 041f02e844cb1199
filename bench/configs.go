package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
)

// profile is one configuration of the same obsd binary.
type profile string

const (
	baseline profile = "baseline"
	// full is obsd's pipeline as config.example.yaml runs it (the slo
	// processor counting in line before shed, its journal on the queue's
	// storage), with the persistent queue on the upstream file_storage.
	full profile = "full"
	// fullMemQ is full with an in-memory sending queue instead of the
	// persistent one (and so no journal): the difference between the two
	// is the price of durability.
	fullMemQ profile = "full-memq"
	// fullWAL and fullWALInterval are full with the persistent queue and
	// the journal on obsd's wal_storage (fsync never, fsync interval), as
	// shipped.
	fullWAL         profile = "full-wal"
	fullWALInterval profile = "full-wal-interval"
	// fullWALNoJournal is full-wal without the slo connector's journal:
	// full-wal minus it is what "acknowledged means counted" costs.
	fullWALNoJournal profile = "full-wal-nojournal"
	// fullWALFanOut and fullMemQFanOut count SLO events the way obsd did
	// before the slo processor: the slo connector behind the fan-out to a
	// forward connector, shed behind that; the collector deep-copies every
	// batch for the mutating branch. Minus full-wal / full-memq: the copy.
	fullWALFanOut  profile = "full-wal-fanout"
	fullMemQFanOut profile = "full-memq-fanout"
	// The pass-through profiles are otlp → otlp_grpc with nothing between
	// and the batching in the exporter's sending queue, as full does:
	// in memory (passMemQ), or persistent on file_storage (passFile) or on
	// wal_storage (passWAL: fsync never, passWALInterval: fsync interval).
	// They isolate what each durable queue costs.
	passMemQ        profile = "pass-memq"
	passFile        profile = "pass-file"
	passWAL         profile = "pass-wal"
	passWALInterval profile = "pass-wal-interval"
)

// storageKind is where a profile's sending queue lives.
type storageKind int

const (
	inMemory storageKind = iota
	fileStorage
	walNever
	walInterval
)

// profileDef is a profile's template, queue and SLO counting shape.
type profileDef struct {
	template string
	storage  storageKind
	// fanOut counts SLO events with the connector behind a fan-out (the
	// old shape) instead of the slo processor in line.
	fanOut bool
	// noJournal leaves the connector's 'storage' unset.
	noJournal bool
}

// profiles maps every profile but baseline to its definition.
var profiles = map[profile]profileDef{
	full:             {template: fullConfig, storage: fileStorage},
	fullMemQ:         {template: fullConfig, storage: inMemory},
	fullWAL:          {template: fullConfig, storage: walNever},
	fullWALInterval:  {template: fullConfig, storage: walInterval},
	fullWALNoJournal: {template: fullConfig, storage: walNever, noJournal: true},
	fullWALFanOut:    {template: fullConfig, storage: walNever, fanOut: true},
	fullMemQFanOut:   {template: fullConfig, storage: inMemory, fanOut: true},
	passMemQ:         {template: passConfig, storage: inMemory},
	passFile:         {template: passConfig, storage: fileStorage},
	passWAL:          {template: passConfig, storage: walNever},
	passWALInterval:  {template: passConfig, storage: walInterval},
}

// storageParams are the storage extension's id and its block (indented
// for the extensions section) for a queue kind; empty for in memory.
func storageParams(k storageKind, dir string) (id, block string) {
	switch k {
	case fileStorage:
		return "file_storage/queue", fmt.Sprintf("  file_storage/queue: {directory: %s/queue, create_directory: true}\n", dir)
	case walNever:
		return "wal_storage/queue", fmt.Sprintf("  wal_storage/queue: {directory: %s/queue, fsync: never}\n", dir)
	case walInterval:
		return "wal_storage/queue", fmt.Sprintf("  wal_storage/queue: {directory: %s/queue, fsync: interval, fsync_interval: 1s}\n", dir)
	}
	return "", ""
}

// configParams fills the config templates.
type configParams struct {
	OTLPPort, HealthPort, MetricsPort, PprofPort int
	Sink                                         string
	Dir                                          string
	SLOFile                                      string
	Shed                                         bool // the shed processor is compiled in
	// StorageID and StorageBlock are the persistent queue's storage
	// extension (empty: in-memory queue).
	StorageID, StorageBlock string
	// FanOut: the slo connector behind a fan-out, not the slo processor.
	// Journal: the connector journals on StorageID.
	FanOut, Journal bool
}

// configParts are the blocks the config templates share (a change here
// changes every profile alike): the OTLP receiver, the otlp_grpc
// exporter's settings and its queue, the health_check and pprof
// extensions and the service's telemetry. Each begins with a newline and
// ends without one, for {{- template "name" .}}.
const configParts = `
{{- define "otlp"}}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:{{.OTLPPort}}, max_recv_msg_size_mib: 16}
{{- end}}
{{- define "exporter"}}
    endpoint: {{.Sink}}
    tls: {insecure: true}
    compression: none
    timeout: 10s
    retry_on_failure: {enabled: true, max_elapsed_time: 0s}
    sending_queue:
      enabled: true
{{- end}}
{{- define "queue"}}
{{- if .StorageID}}
      storage: {{.StorageID}}
{{- end}}
      sizer: requests
      queue_size: 20000
      num_consumers: 4
      batch: {flush_timeout: 200ms, sizer: items, min_size: 8192, max_size: 16384}
{{- end}}
{{- define "extensions"}}
extensions:
  health_check: {endpoint: 127.0.0.1:{{.HealthPort}}}
  pprof: {endpoint: 127.0.0.1:{{.PprofPort}}}
{{- end}}
{{- define "telemetry"}}
  telemetry:
    logs: {level: warn}
    metrics:
      level: normal
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: {{.MetricsPort}}, without_scope_info: true, without_units: true, without_type_suffix: true}}}
{{- end}}`

// renderConfig renders a config template, with configParts, into the file
// config.yaml in dir and returns its path.
func renderConfig(dir, name, text string, data any) (string, error) {
	t := template.Must(template.New(name).Parse(configParts))
	var b bytes.Buffer
	if err := template.Must(t.Parse(text)).Execute(&b, data); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, b.Bytes(), 0o600)
}

// baselineConfig is what a plain collector does: upstream components only,
// otlp receiver → batch → otlp exporter (in-memory queue, its default).
const baselineConfig = `
{{- template "otlp" .}}
processors:
  batch: {}
exporters:
  otlp_grpc:
    endpoint: {{.Sink}}
    tls: {insecure: true}
    compression: none
{{- template "extensions" .}}
service:
  extensions: [health_check, pprof]
{{- template "telemetry" .}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [otlp_grpc]}
    logs: {receivers: [otlp], processors: [batch], exporters: [otlp_grpc]}
`

// fullConfig is obsd as shipped: memory_limiter, correlation, the slo
// processor counting for the slo connector's 100 SLOs before shedding (its
// journal on the queue's storage), shed, and a persistent queue that
// batches (config.example.yaml's way: the client is answered once its data
// is on disk, so no batch processor sits in front). With FanOut, the old
// shape: the connector behind a fan-out to forward connectors.
const fullConfig = `
{{- template "otlp" .}}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 200, spike_limit_mib: 40}
  correlation:
    correlation_keys: [request_id]
    default_policy: {action: tag}
{{- if not .FanOut}}
  slo: {}
{{- end}}
{{- if .Shed}}
  shed: {}
{{- end}}
connectors:
{{- if .FanOut}}
  forward/traces: {}
  forward/logs: {}
{{- end}}
  slo:
    slos: [{{.SLOFile}}]
    evaluation_interval: 10s
    state: {directory: {{.Dir}}/slo, snapshot_interval: 10s}
{{- if .Journal}}
    storage: {{.StorageID}}
{{- end}}
exporters:
  otlp_grpc:
{{- template "exporter" .}}
{{- template "queue" .}}
{{- template "extensions" .}}
{{.StorageBlock -}}
service:
  extensions: [health_check, pprof{{if .StorageID}}, {{.StorageID}}{{end}}]
{{- template "telemetry" .}}
  pipelines:
{{- if .FanOut}}
    traces/in: {receivers: [otlp], processors: [memory_limiter, correlation], exporters: [slo, forward/traces]}
    traces/out: {receivers: [forward/traces], processors: [{{if .Shed}}shed{{end}}], exporters: [otlp_grpc]}
    logs/in: {receivers: [otlp], processors: [memory_limiter, correlation], exporters: [slo, forward/logs]}
    logs/out: {receivers: [forward/logs], processors: [{{if .Shed}}shed{{end}}], exporters: [otlp_grpc]}
{{- else}}
    traces: {receivers: [otlp], processors: [memory_limiter, correlation, slo{{if .Shed}}, shed{{end}}], exporters: [otlp_grpc]}
    logs: {receivers: [otlp], processors: [memory_limiter, correlation, slo{{if .Shed}}, shed{{end}}], exporters: [otlp_grpc]}
    # The connector is an exporter of some pipeline (the collector wants
    # one): the OTLP metrics, which the load does not send.
    metrics/in: {receivers: [otlp], exporters: [slo]}
{{- end}}
    metrics/slo: {receivers: [slo], exporters: [otlp_grpc]}
`

// passConfig is a durable pass-through: otlp → otlp_grpc, nothing in
// between, the batching in the exporter's sending queue (in memory or
// persistent), configured as full's exporter is.
const passConfig = `
{{- template "otlp" .}}
exporters:
  otlp_grpc:
{{- template "exporter" .}}
{{- template "queue" .}}
{{- template "extensions" .}}
{{.StorageBlock -}}
service:
  extensions: [health_check, pprof{{if .StorageID}}, {{.StorageID}}{{end}}]
{{- template "telemetry" .}}
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_grpc]}
    logs: {receivers: [otlp], exporters: [otlp_grpc]}
`

// writeConfig renders a profile's config into dir.
func writeConfig(p profile, params configParams) (string, error) {
	text := baselineConfig
	if p != baseline {
		def, ok := profiles[p]
		if !ok {
			return "", fmt.Errorf("unknown profile %q (baseline, %s)", p, strings.Join(profileNames(), ", "))
		}
		text = def.template
		params.StorageID, params.StorageBlock = storageParams(def.storage, params.Dir)
		params.FanOut = def.fanOut
		params.Journal = params.StorageID != "" && !def.noJournal
		if text == fullConfig {
			params.SLOFile = filepath.Join(params.Dir, "slos.yaml")
			if err := os.WriteFile(params.SLOFile, []byte(sloFile()), 0o600); err != nil {
				return "", err
			}
		}
	}
	return renderConfig(params.Dir, string(p), text, params)
}

// profileNames lists the profiles but baseline, sorted.
func profileNames() []string {
	names := make([]string, 0, len(profiles))
	for p := range profiles {
		names = append(names, string(p))
	}
	sort.Strings(names)
	return names
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
