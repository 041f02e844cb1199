// Package jaegertest runs the real Jaeger (v2, the all-in-one built from
// github.com/jaegertracing/jaeger/cmd/jaeger) on free loopback ports for
// tests: OTLP in, traces kept in memory or in Badger on disk, and reads
// them back through Jaeger's query API, as its UI does. It is imported by
// tests only.
package jaegertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/internal/servertest"
)

const (
	// Binary is the Jaeger program, looked up on PATH and in
	// $(go env GOPATH)/bin.
	Binary = "jaeger"
	// Version is the release the tests are written against.
	Version = "v1.75.0"
	// Install provides Binary. Jaeger's module has replace directives, so
	// `go install …@version` refuses it: it is built as a tool of a scratch
	// module, outside obsd's.
	Install = "d=$(mktemp -d) && cd $d && go mod init jaegerbuild && " +
		"go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@" + Version + " && " +
		"go build -o $(go env GOPATH)/bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger"
)

// Storage is where Jaeger keeps the traces.
type Storage int

const (
	// Memory keeps traces in the process: a restart loses them.
	Memory Storage = iota
	// Badger keeps them on disk in the test's directory: they survive Stop
	// and Start, for outage tests.
	Badger
)

// Server is one running Jaeger. Stop and Start (from the embedded Process)
// take it down and bring it back on the same ports and storage.
type Server struct {
	*servertest.Process
	// OTLPGRPC and OTLPHTTP are the OTLP receiver's addresses (host:port).
	OTLPGRPC, OTLPHTTP string
	// QueryURL is the base URL of the query API and UI.
	QueryURL string
}

// Start runs Jaeger with the given storage and returns once its health
// check answers 200.
func Start(t testing.TB, storage Storage) *Server {
	t.Helper()
	bin := servertest.FindBinary(t, Binary, Install)
	dir := t.TempDir()
	port := func() string { return fmt.Sprintf("127.0.0.1:%d", servertest.FreePort(t)) }
	s := &Server{OTLPGRPC: port(), OTLPHTTP: port()}
	queryHTTP, queryGRPC, health := port(), port(), port()
	s.QueryURL = "http://" + queryHTTP
	backend := "memory:\n          max_traces: 100000"
	if storage == Badger {
		data := filepath.Join(dir, "badger")
		backend = fmt.Sprintf("badger:\n          directories: {keys: %q, values: %q}\n          ephemeral: false\n          ttl: {spans: 48h}", data, data)
	}
	cfg := fmt.Sprintf(config, backend, queryHTTP, queryGRPC, health, s.OTLPGRPC, s.OTLPHTTP)
	path := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Process = servertest.Start(t, servertest.Spec{Name: "jaeger", Path: bin, Args: []string{"--config", path},
		Dir: dir, ReadyURL: "http://" + health + "/status"})
	return s
}

// config is Jaeger's all-in-one with OTLP only, every port on loopback, no
// self-metrics port (the default one, 8888, is obsd's too) and no traces of
// its own.
const config = `
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      store:
        %s
  jaeger_query:
    # Off: Jaeger v2 traces its own query API by default, to the OTLP
    # default endpoint (localhost:4318), which is where a test's obsd on
    # its default ports listens (the first-run tests).
    enable_tracing: false
    storage:
      traces: store
    http:
      endpoint: %s
    grpc:
      endpoint: %s
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %s
      status:
        enabled: true
        path: /status
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: store
`

// Trace is a trace as Jaeger's query API (/api/traces) returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span of a Trace. Ids are lowercase hex as Jaeger prints them:
// a trace id whose high 64 bits are zero is 16 digits long.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"` // microseconds since the epoch
	Duration      int64       `json:"duration"`  // microseconds
	Tags          []KeyValue  `json:"tags"`
	ProcessID     string      `json:"processID"`
}

// Reference links a span to another (CHILD_OF is the parent).
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Process is the emitting service of spans.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// KeyValue is a span or process tag.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Parent is the span id of the span's CHILD_OF reference, or "".
func (s Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Tag is the value of tag key rendered with fmt, and whether it is set.
func (s Span) Tag(key string) (string, bool) {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return fmt.Sprint(kv.Value), true
		}
	}
	return "", false
}

// Service is the service name of the span's process in tr.
func (tr Trace) Service(s Span) string { return tr.Processes[s.ProcessID].ServiceName }

// TryTrace fetches a trace by id (hex, as an operator would type it) from
// GET /api/traces/{id}; found is false when Jaeger answers 404.
func (s *Server) TryTrace(id string) (tr Trace, found bool, err error) {
	var out struct {
		Data   []Trace `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	code, err := s.get("/api/traces/"+url.PathEscape(id), &out)
	if code == http.StatusNotFound {
		return Trace{}, false, nil
	}
	if err != nil {
		return Trace{}, false, err
	}
	if len(out.Data) != 1 {
		return Trace{}, false, fmt.Errorf("GET /api/traces/%s: %d traces in the answer, errors %v", id, len(out.Data), out.Errors)
	}
	return out.Data[0], true, nil
}

// Services lists the service names Jaeger knows (GET /api/services).
func (s *Server) Services(t testing.TB) []string {
	t.Helper()
	var out struct {
		Data []string `json:"data"`
	}
	if _, err := s.get("/api/services", &out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

// FindTraces searches the traces of service over the last lookback
// (GET /api/traces?service=...), at most limit of them.
func (s *Server) FindTraces(t testing.TB, service string, lookback time.Duration, limit int) []Trace {
	t.Helper()
	end := time.Now()
	q := url.Values{"service": {service}, "limit": {fmt.Sprint(limit)},
		"start": {fmt.Sprint(end.Add(-lookback).UnixMicro())}, "end": {fmt.Sprint(end.UnixMicro())}}
	var out struct {
		Data []Trace `json:"data"`
	}
	if _, err := s.get("/api/traces?"+q.Encode(), &out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

func (s *Server) get(path string, into any) (int, error) {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(s.QueryURL + path)
	if err != nil {
		return 0, fmt.Errorf("jaeger query GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("jaeger query GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("jaeger query GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return resp.StatusCode, fmt.Errorf("jaeger query GET %s: %w", path, err)
	}
	return resp.StatusCode, nil
}
