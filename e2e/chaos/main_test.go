// Package chaos is obsd's fault-injection suite: each test runs the real
// obsd binary on loopback, breaks something on purpose (kill -9, a dead or
// slow backend, abusive or malformed clients, a bad config reload) and
// asserts the guarantee that must survive it. Every test prints its figures
// with t.Logf and as one "CHAOS <name>: ..." line, also appended to the file
// named by $CHAOS_SUMMARY when set.
package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	// The sink's gRPC server must read obsd's gzip-compressed exports.
	_ "google.golang.org/grpc/encoding/gzip"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

func TestMain(m *testing.M) { harness.Main(m) }

// ports are the loopback ports one obsd instance listens on.
type ports struct {
	GRPC, HTTP, Loki, Health, Metrics int
}

func newPorts(t *testing.T) ports {
	return ports{GRPC: harness.FreePort(t), HTTP: harness.FreePort(t), Loki: harness.FreePort(t),
		Health: harness.FreePort(t), Metrics: harness.FreePort(t)}
}

// options shape the config of one chaos instance.
type options struct {
	// Timeout is the exporters' per-request timeout ("5s" when empty).
	Timeout string
	// LimitMiB is the memory_limiter's limit_mib (256 when zero).
	LimitMiB int
	// RateLimit is YAML for the ratelimit extension's body (indented by four
	// spaces); when set the extension is middleware of every receiver.
	RateLimit string
	// Connectors is a whole top-level connectors section.
	Connectors string
	// TraceExporters are added to the traces pipeline's exporters.
	TraceExporters string
	// Readiness makes health_check report not ready once every circuit has
	// been open or half-open for 1s.
	Readiness bool
	// LogsTo is the logs exporter's backend when not the same sink.
	LogsTo *sink.OTLP
	// QueueSize is each exporter's sending_queue.queue_size in requests
	// (100000 when zero).
	QueueSize int
	// Pipelines are extra pipelines (indented by four spaces).
	Pipelines string
	// Breaker puts a circuit_breaker/<signal> extension (3 failures open
	// it for 2s) on each exporter.
	Breaker bool
	// WAL puts the persistent queues on wal_storage/queue (obsd's own
	// write-ahead log) instead of file_storage/queue; WALConfig is extra
	// YAML for it (indented by four spaces), e.g. "    fsync: never\n".
	WAL       bool
	WALConfig string
	// SLO, when set (Connectors must be empty), runs the slo connector on
	// the SLO file slo.yaml of the
	// instance directory with its journal on the queues' storage ('storage'),
	// snapshots every SLO.SnapshotInterval; spans and logs are counted in
	// line by the slo processor (config.example.yaml's shape), or, with
	// SLO.FanOut, by the connector as an exporter of the traces and logs
	// pipelines. Its metrics go down a metrics/slo pipeline to the sink.
	SLO *sloOptions
}

// sloOptions shape the slo connector of a chaos instance.
type sloOptions struct {
	SnapshotInterval string // "10s" (the default) when empty
	FanOut           bool
}

// sloYAML is the slo processor and connector of o.SLO: the processors
// section's extra entry, the connectors section, the slo processor's
// place in the traces and logs pipelines, the traces and logs pipelines'
// extra exporters, and the extra pipelines.
func sloYAML(o options, storageID string) (proc, conn, inline, exporters, pipelines string) {
	if o.SLO == nil {
		return "", o.Connectors, "", "", o.Pipelines
	}
	snap := o.SLO.SnapshotInterval
	if snap == "" {
		snap = "10s"
	}
	conn = fmt.Sprintf(`connectors:
  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: %s
    storage: %s
`, snap, storageID)
	pipelines = o.Pipelines + `    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc/traces]
`
	if o.SLO.FanOut {
		return "", conn, "", ", slo", pipelines
	}
	// The connector must also be an exporter somewhere: the OTLP metrics.
	pipelines += `    metrics:
      receivers: [otlp]
      exporters: [slo]
`
	return "  slo: {}\n", conn, ", slo", "", pipelines
}

// storageYAML is the storage extension's id and its block in the
// extensions section.
func storageYAML(o options) (id, block string) {
	if o.WAL {
		return "wal_storage/queue", "  wal_storage/queue:\n    directory: \"{{DIR}}/queue\"\n" + o.WALConfig
	}
	return "file_storage/queue", "  file_storage/queue:\n    directory: \"{{DIR}}/queue\"\n    create_directory: true\n    timeout: 5s\n"
}

// config is obsd with OTLP (gRPC and HTTP) and lokipush in, a persistent
// queue per signal on file_storage (or wal_storage, o.WAL) in the instance
// directory, batching in the queue (no batch processor), and the sink as
// the OTLP backend.
func config(p ports, s *sink.OTLP, o options) harness.Config {
	if o.Timeout == "" {
		o.Timeout = "5s"
	}
	if o.LimitMiB == 0 {
		o.LimitMiB = 256
	}
	if o.QueueSize == 0 {
		o.QueueSize = 100000
	}
	mw, httpMW, ext, extIDs, health := extensionsYAML(o)
	storageID, storageBlock := storageYAML(o)
	sloProc, connectors, inline, sloExporters, pipelines := sloYAML(o, storageID)
	exporter := func(name string) string {
		backend := s
		if name == "logs" && o.LogsTo != nil {
			backend = o.LogsTo
		}
		return exporterYAML(name, backend.GRPCAddr, o)
	}
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        max_recv_msg_size_mib: 1%s
      http:
        endpoint: 127.0.0.1:%d
        max_request_body_size: 1048576%s
  lokipush:
    endpoint: 127.0.0.1:%d
    max_request_body_size: 1048576%s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: %d
    spike_limit_mib: %d
%sexporters:
%s%s%s
extensions:
%s  health_check:
    endpoint: 127.0.0.1:%d%s
%s
service:
  extensions: [health_check, %s%s]
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
    traces:
      receivers: [otlp]
      processors: [memory_limiter%s]
      exporters: [otlp_grpc/traces%s%s]
    logs:
      receivers: [otlp, lokipush]
      processors: [memory_limiter%s]
      exporters: [otlp_grpc/logs%s]
%s
`, p.GRPC, mw, p.HTTP, httpMW, p.Loki, strings.ReplaceAll(mw, "        ", "    "),
		o.LimitMiB, o.LimitMiB/5, sloProc, exporter("traces"), exporter("logs"), connectors, storageBlock,
		p.Health, health, ext, storageID, extIDs, p.Metrics, inline, o.TraceExporters, sloExporters, inline, sloExporters, pipelines)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// extensionsYAML is the receivers' middlewares (gRPC, HTTP), the
// extensions section's body, their ids for service.extensions and the
// health_check's component_health, as o asks.
func extensionsYAML(o options) (mw, httpMW, ext, extIDs, health string) {
	// oversize makes OTLP/HTTP answer 413 to a body over its limit, as in
	// config.example.yaml.
	mw, httpMW, ext, extIDs = "", "\n        middlewares: [{id: oversize}]", "  oversize:\n", ", oversize"
	if o.RateLimit != "" {
		mw = "\n        middlewares: [{id: ratelimit}]"
		httpMW = "\n        middlewares: [{id: oversize}, {id: ratelimit}]"
		ext += "  ratelimit:\n" + o.RateLimit
		extIDs += ", ratelimit"
	}
	if o.Readiness {
		health = "\n    component_health:\n      include_recoverable_errors: true\n      recovery_duration: 1s"
	}
	if o.Breaker {
		for _, sig := range []string{"traces", "logs"} {
			ext += fmt.Sprintf("  circuit_breaker/%s:\n    failure_threshold: 3\n    delay: 2s\n    success_threshold: 1\n", sig)
			extIDs += ", circuit_breaker/" + sig
		}
	}
	return mw, httpMW, ext, extIDs, health
}

// exporterYAML is the otlp_grpc/<name> exporter to addr: a persistent
// queue on the storage extension with batching inside it, retries for
// ever, and the circuit_breaker/<name> middleware when o.Breaker.
func exporterYAML(name, addr string, o options) string {
	breaker := ""
	if o.Breaker {
		breaker = fmt.Sprintf("\n    middlewares: [{id: circuit_breaker/%s}]", name)
	}
	storageID, _ := storageYAML(o)
	return fmt.Sprintf(`  otlp_grpc/%s:
    endpoint: %s%s
    tls:
      insecure: true
    timeout: %s
    retry_on_failure:
      enabled: true
      initial_interval: 200ms
      max_interval: 1s
      max_elapsed_time: 0s
    sending_queue:
      enabled: true
      storage: %s
      sizer: requests
      queue_size: %d
      num_consumers: 4
      batch:
        flush_timeout: 100ms
        sizer: items
        min_size: 1000
        max_size: 5000
`, name, addr, breaker, o.Timeout, storageID, o.QueueSize)
}

// dumpOnFailure logs the tail of obsd's output when the test failed.
func dumpOnFailure(t *testing.T, o *harness.Obsd) {
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			t.Logf("obsd output (tail):\n%s", out)
		}
	})
}

// dial opens a gRPC client connection to obsd's OTLP receiver.
func dial(t *testing.T, port int) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Reconnect fast after obsd restarts.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, MaxDelay: 500 * time.Millisecond}, MinConnectTimeout: 2 * time.Second}))
	if err != nil {
		t.Fatalf("dial obsd: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// memory is obsd's resident memory from /proc/PID/status, in MiB.
type memory struct{ HWM, RSS float64 }

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmHWM:":
			m.HWM = kb / 1024
		case "VmRSS:":
			m.RSS = kb / 1024
		}
	}
	return m, sc.Err()
}

// memoryWatch samples obsd's RSS every 200ms and keeps the highest value
// seen (VmHWM covers the whole life of the process anyway).
type memoryWatch struct {
	mu   sync.Mutex
	peak memory
	once sync.Once
	stop chan struct{}
	done chan struct{}
}

func watchMemory(pid int) *memoryWatch {
	w := &memoryWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if m, err := readMemory(pid); err == nil {
				w.mu.Lock()
				w.peak.HWM = max(w.peak.HWM, m.HWM)
				w.peak.RSS = max(w.peak.RSS, m.RSS)
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Stop ends the sampling and returns the peak; it may be called again.
func (w *memoryWatch) Stop() memory {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// dirSize is the total size of the regular files under dir, in bytes.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// scrape is obsd's /metrics, or nil while it cannot be read (starting up,
// reloading): harness.Sum of nil is 0, so poll with harness.Eventually.
func scrape(o *harness.Obsd) map[string]*dto.MetricFamily {
	m, err := harness.ScrapeMetrics(fmt.Sprintf("http://127.0.0.1:%d/metrics", o.MetricsPort))
	if err != nil {
		return nil
	}
	return m
}

// queueSize is the sum of obsd's exporter queue sizes (-1 when /metrics
// cannot be read).
func queueSize(o *harness.Obsd) float64 {
	m := scrape(o)
	if m == nil {
		return -1
	}
	return harness.Sum(m, "otelcol_exporter_queue_size", nil)
}

// summary logs one test's figures and prints them as one CHAOS line.
func summary(t *testing.T, name, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf("CHAOS %s: %s", name, fmt.Sprintf(format, args...))
	t.Log(line)
	fmt.Println(line)
	if path := os.Getenv("CHAOS_SUMMARY"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
}

// runLoad starts g in the background; the returned function cancels it and
// waits for its last answers.
func runLoad(ctx context.Context, gens ...*load.Generator) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, g := range gens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.Run(ctx)
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

// waitDelivered waits until every acknowledged item of each generator is
// in the sink, and returns the results (lost > 0 after timeout).
func waitDelivered(t *testing.T, s *sink.OTLP, timeout time.Duration, traces, logs *load.Generator) (load.Result, load.Result) {
	t.Helper()
	var rt, rl load.Result
	deadline := time.Now().Add(timeout)
	for {
		if traces != nil {
			rt = traces.Check(load.CountSpans(s.Traces()))
		}
		if logs != nil {
			rl = logs.Check(load.CountLogs(s.Logs()))
		}
		if (rt.Lost == 0 && rl.Lost == 0) || time.Now().After(deadline) {
			return rt, rl
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// with returns a copy of m with one more label.
func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}

// healthStatus is the HTTP status of obsd's health endpoint (0 when it
// does not answer).
func healthStatus(o *harness.Obsd) int {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", o.HealthPort))
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
