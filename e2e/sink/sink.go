// Package sink is an OTLP backend for tests: a gRPC and HTTP server built on
// pdata's OTLP request types that keeps everything it receives, and can be
// told to fail or stall to play a broken backend.
package sink

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	// gzip, so that exporters compressing with gzip are understood.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
)

// OTLP receives OTLP over gRPC and HTTP (protobuf) and stores it.
type OTLP struct {
	GRPCAddr string // host:port of the gRPC server
	HTTPURL  string // http://host:port of the HTTP server

	grpcServer *grpc.Server
	httpServer *http.Server

	mu      sync.Mutex
	traces  []ptrace.Traces
	logs    []plog.Logs
	metrics []pmetric.Metrics
	failure codes.Code    // when not OK, every request fails with it
	delay   time.Duration // every request waits this long first
	calls   int
	auth    *auth // nil unless NewOTLPWith was given a bearer token
}

// NewOTLP starts a sink on loopback; it is stopped at test cleanup.
func NewOTLP(t testing.TB) *OTLP {
	t.Helper()
	return NewOTLPWith(t, Options{})
}

// httpMux routes the OTLP/HTTP paths to the sink's stores.
func (s *OTLP) httpMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", s.handleHTTP(func(b []byte) error {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return err
		}
		s.addTraces(req.Traces())
		return nil
	}))
	mux.HandleFunc("/v1/logs", s.handleHTTP(func(b []byte) error {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return err
		}
		s.addLogs(req.Logs())
		return nil
	}))
	mux.HandleFunc("/v1/metrics", s.handleHTTP(func(b []byte) error {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return err
		}
		s.addMetrics(req.Metrics())
		return nil
	}))
	return mux
}

// Close stops both servers.
func (s *OTLP) Close() {
	s.grpcServer.Stop()
	_ = s.httpServer.Close()
}

// Fail makes every following request fail with code (codes.OK heals).
func (s *OTLP) Fail(code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = code
}

// Delay makes every following request wait d before it is answered.
func (s *OTLP) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls is the number of export requests received, failed ones included.
func (s *OTLP) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// admit counts a call, applies the delay and returns the failure to answer.
func (s *OTLP) admit(ctx context.Context) error {
	s.mu.Lock()
	s.calls++
	delay, failure := s.delay, s.failure
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if failure != codes.OK {
		return status.Error(failure, "sink told to fail")
	}
	return nil
}

func (s *OTLP) handleHTTP(store func([]byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.admit(r.Context()); err != nil {
			code := http.StatusServiceUnavailable
			if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
				code = http.StatusBadRequest
			}
			http.Error(w, err.Error(), code)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := store(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}
}

func (s *OTLP) addTraces(td ptrace.Traces) {
	c := ptrace.NewTraces()
	td.CopyTo(c)
	s.mu.Lock()
	s.traces = append(s.traces, c)
	s.mu.Unlock()
}

func (s *OTLP) addLogs(ld plog.Logs) {
	c := plog.NewLogs()
	ld.CopyTo(c)
	s.mu.Lock()
	s.logs = append(s.logs, c)
	s.mu.Unlock()
}

func (s *OTLP) addMetrics(md pmetric.Metrics) {
	c := pmetric.NewMetrics()
	md.CopyTo(c)
	s.mu.Lock()
	s.metrics = append(s.metrics, c)
	s.mu.Unlock()
}

// Traces returns copies of every traces batch received so far.
func (s *OTLP) Traces() []ptrace.Traces {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ptrace.Traces(nil), s.traces...)
}

// Logs returns every logs batch received so far.
func (s *OTLP) Logs() []plog.Logs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]plog.Logs(nil), s.logs...)
}

// Metrics returns every metrics batch received so far.
func (s *OTLP) Metrics() []pmetric.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pmetric.Metrics(nil), s.metrics...)
}

// SpanCount is the number of spans received so far.
func (s *OTLP) SpanCount() int {
	n := 0
	for _, td := range s.Traces() {
		n += td.SpanCount()
	}
	return n
}

// LogRecordCount is the number of log records received so far.
func (s *OTLP) LogRecordCount() int {
	n := 0
	for _, ld := range s.Logs() {
		n += ld.LogRecordCount()
	}
	return n
}

// DataPointCount is the number of metric data points received so far.
func (s *OTLP) DataPointCount() int {
	n := 0
	for _, md := range s.Metrics() {
		n += md.DataPointCount()
	}
	return n
}

type traceServer struct {
	ptraceotlp.UnimplementedGRPCServer
	s *OTLP
}

func (t *traceServer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	if err := t.s.admit(ctx); err != nil {
		return ptraceotlp.NewExportResponse(), err
	}
	t.s.addTraces(req.Traces())
	return ptraceotlp.NewExportResponse(), nil
}

type logServer struct {
	plogotlp.UnimplementedGRPCServer
	s *OTLP
}

func (l *logServer) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	if err := l.s.admit(ctx); err != nil {
		return plogotlp.NewExportResponse(), err
	}
	l.s.addLogs(req.Logs())
	return plogotlp.NewExportResponse(), nil
}

type metricServer struct {
	pmetricotlp.UnimplementedGRPCServer
	s *OTLP
}

func (m *metricServer) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	if err := m.s.admit(ctx); err != nil {
		return pmetricotlp.NewExportResponse(), err
	}
	m.s.addMetrics(req.Metrics())
	return pmetricotlp.NewExportResponse(), nil
}
