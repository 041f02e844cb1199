// Package containerlogs runs the real obsd as a node agent reading a
// temporary tree shaped like /var/log/pods, with the file_log receiver
// block of config.example.yaml (only its paths moved to the tree), the
// agent's logs pipeline (memory_limiter, k8smeta, correlation, the slo
// connector when asked, shed) and a persistent queue to an e2e sink; and it
// counts the numbered lines the sink received, to find lost and duplicated
// ones.
package containerlogs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// ShippedRoot is where config.example.yaml reads the container logs.
const ShippedRoot = "/var/log/pods"

// Options shape one agent.
type Options struct {
	// Root is the /var/log/pods-shaped tree file_log reads.
	Root string
	// Sink receives the logs (and the SLO metrics).
	Sink *sink.OTLP
	// LimitMiB is the memory_limiter's limit_mib (256 when zero); shed
	// gets the same limit, as in config.example.yaml.
	LimitMiB int
	// QueueSize is the logs exporter's persistent queue size in requests
	// (5000, config.example.yaml's, when zero).
	QueueSize int
	// K8sAPI, when set, is the base URL of an API server k8smeta lists
	// the node's pods from; otherwise k8smeta adds the node name only.
	K8sAPI string
	// SLOs, when set, is an SLO file the slo connector evaluates on the
	// logs (as config.example.yaml's agent does).
	SLOs string
	// Exclude replaces the shipped exclude patterns (paths under Root).
	Exclude []string
}

// Ports are the loopback ports one agent listens on.
type Ports struct{ Health, Metrics int }

// Config is the agent's config for o, on free loopback ports.
func Config(t testing.TB, o Options) harness.Config {
	t.Helper()
	if o.LimitMiB == 0 {
		o.LimitMiB = 256
	}
	if o.QueueSize == 0 {
		o.QueueSize = 5000
	}
	p := Ports{Health: harness.FreePort(t), Metrics: harness.FreePort(t)}
	fileLog := ShippedFileLog(t, o.Root, o.Exclude)

	source := "{kind: none}"
	if o.K8sAPI != "" {
		source = fmt.Sprintf("{kind: apiserver, endpoint: %q, token_file: \"\", ca_file: \"\", poll_interval: 1s}", o.K8sAPI)
	}
	connectors := "  forward/logs: {}\n"
	logsExporters := "[forward/logs]"
	sloPipeline := ""
	if o.SLOs != "" {
		connectors += `  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
    state: {directory: "{{DIR}}/slo-state", snapshot_interval: 1s}
    storage: wal_storage
`
		logsExporters = "[slo, forward/logs]"
		sloPipeline = "    metrics/slo: {receivers: [slo], exporters: [otlp_grpc/metrics]}\n"
	}
	yaml := fmt.Sprintf(`
receivers:
  file_log:
%s
processors:
  memory_limiter: {check_interval: 1s, limit_mib: %d, spike_limit_mib: %d}
  k8smeta:
    node_name: node-1
    source: %s
  correlation:
    correlation_keys: [request_id]
    default_policy: {action: tag}
  shed:
    memory_limit_mib: %d
    protect: [{key: log.file.path}]
connectors:
%s
exporters:
  otlp_grpc/logs:
    endpoint: %s
    tls: {insecure: true}
    timeout: 5s
    retry_on_failure: {enabled: true, initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s}
    sending_queue:
      enabled: true
      storage: wal_storage
      sizer: requests
      queue_size: %d
      num_consumers: 4
      batch: {flush_timeout: 100ms, sizer: items, min_size: 1000, max_size: 5000}
  otlp_grpc/metrics:
    endpoint: %s
    tls: {insecure: true}
extensions:
  health_check: {endpoint: "127.0.0.1:%d"}
  wal_storage: {directory: "{{DIR}}/wal", fsync: interval}
service:
  extensions: [health_check, wal_storage]
  telemetry:
    logs: {level: info}
    metrics:
      level: detailed
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d, without_scope_info: true, without_units: true, without_type_suffix: true}}}
  pipelines:
    logs:
      receivers: [file_log]
      processors: [memory_limiter, k8smeta, correlation]
      exporters: %s
    logs/forward:
      receivers: [forward/logs]
      processors: [shed]
      exporters: [otlp_grpc/logs]
%s`, indent(fileLog, "    "), o.LimitMiB, o.LimitMiB/5, source, o.LimitMiB, connectors, o.Sink.GRPCAddr, o.QueueSize,
		o.Sink.GRPCAddr, p.Health, p.Metrics, logsExporters, sloPipeline)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// WriteSLOs writes the SLO file the config refers to into the agent's
// directory (call it before starting the agent in dir).
func WriteSLOs(t testing.TB, dir, slos string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(slos), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ShippedFileLog is the file_log block of config.example.yaml as YAML,
// with its paths under root instead of /var/log/pods and, when exclude is
// not nil, those exclude patterns.
func ShippedFileLog(t testing.TB, root string, exclude []string) string {
	t.Helper()
	repo, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repo, "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Receivers map[string]map[string]any `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	fl, ok := cfg.Receivers["file_log"]
	if !ok {
		t.Fatal("config.example.yaml has no file_log receiver")
	}
	move := func(list any) []string {
		var out []string
		items, _ := list.([]any)
		for _, p := range items {
			s, _ := p.(string)
			if !strings.HasPrefix(s, ShippedRoot+"/") {
				t.Fatalf("config.example.yaml's file_log path %q is not under %s", s, ShippedRoot)
			}
			out = append(out, filepath.Join(root, strings.TrimPrefix(s, ShippedRoot+"/")))
		}
		return out
	}
	fl["include"] = move(fl["include"])
	if exclude != nil {
		fl["exclude"] = exclude
	} else {
		fl["exclude"] = move(fl["exclude"])
	}
	out, err := yaml.Marshal(fl)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// seqRe finds a numbered line's writer and number in its body: logfmt
// "w=<writer> seq=<n>" or JSON "w":"<writer>","seq":<n>.
var seqRe = regexp.MustCompile(`"?w"?[=:]"?([A-Za-z0-9_-]+)"?[ ,]+"?seq"?[=:](\d+)`)

// Line is numbered line n of writer w, in logfmt or JSON, carrying a
// traceparent (logfmt) or trace_id (JSON) derived from n, and padded with
// pad bytes of payload.
func Line(w string, n int, json bool, pad int) string {
	p := strings.Repeat("x", pad)
	if json {
		return fmt.Sprintf(`{"w":%q,"seq":%d,"trace_id":"%s","msg":"order %d %s"}`, w, n, TraceID(w, n), n, p)
	}
	return fmt.Sprintf(`level=info w=%s seq=%d traceparent=00-%s-00f067aa0ba902b7-01 msg="order %d %s" user=7`, w, n, TraceID(w, n), n, p)
}

// TraceID is the trace id Line(w, n) carries.
func TraceID(w string, n int) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(w) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%016x%016x", h, uint64(n)+1)
}

// Key identifies one numbered line.
type Key struct {
	Writer string
	Seq    int
}

// Counts is how many times each numbered line was received.
type Counts map[Key]int

// Count counts the numbered lines in lds, by their bodies.
func Count(lds []plog.Logs) Counts {
	c := Counts{}
	for _, ld := range lds {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if m := seqRe.FindStringSubmatch(lr.Body().AsString()); m != nil {
						n, _ := strconv.Atoi(m[2])
						c[Key{m[1], n}]++
					}
				}
			}
		}
	}
	return c
}

// Result compares what writers wrote with what was received.
type Result struct {
	Written, Received, Unique, Lost, Dup int
	FirstLost                            []Key
}

func (r Result) String() string {
	return fmt.Sprintf("written=%d received=%d unique=%d lost=%d dup=%d", r.Written, r.Received, r.Unique, r.Lost, r.Dup)
}

// Check compares c with written, the number of lines each writer wrote
// (numbered from 0).
func (c Counts) Check(written map[string]int) Result {
	var r Result
	for w, n := range written {
		r.Written += n
		for seq := range n {
			k := c[Key{w, seq}]
			r.Received += k
			switch {
			case k == 0:
				r.Lost++
				if len(r.FirstLost) < 10 {
					r.FirstLost = append(r.FirstLost, Key{w, seq})
				}
			default:
				r.Unique++
				r.Dup += k - 1
			}
		}
	}
	return r
}
