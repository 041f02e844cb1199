package main

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
)

// countingSink is the backend: an OTLP gRPC server that counts what it
// receives, notes probe arrivals, and discards the data.
type countingSink struct {
	addr   string
	server *grpc.Server
	spans  atomic.Int64
	logs   atomic.Int64
	probes atomic.Pointer[probeBook]
}

func startSink() (*countingSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &countingSink{addr: l.Addr().String(), server: grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))}
	ptraceotlp.RegisterGRPCServer(s.server, &sinkTraces{s: s})
	plogotlp.RegisterGRPCServer(s.server, &sinkLogs{s: s})
	pmetricotlp.RegisterGRPCServer(s.server, &sinkMetrics{})
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

func (s *countingSink) stop() { s.server.Stop() }

func (s *countingSink) noteProbe(attrs pcommon.Map, now time.Time) {
	pb := s.probes.Load()
	if pb == nil {
		return
	}
	if v, ok := attrs.Get(probeAttr); ok {
		pb.arrived(v.Int(), now)
	}
}

type sinkTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	s *countingSink
}

func (t *sinkTraces) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	now := time.Now()
	td := req.Traces()
	t.s.spans.Add(int64(td.SpanCount()))
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		t.s.noteProbe(td.ResourceSpans().At(i).Resource().Attributes(), now)
	}
	return ptraceotlp.NewExportResponse(), nil
}

type sinkLogs struct {
	plogotlp.UnimplementedGRPCServer
	s *countingSink
}

func (l *sinkLogs) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	now := time.Now()
	ld := req.Logs()
	l.s.logs.Add(int64(ld.LogRecordCount()))
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		l.s.noteProbe(ld.ResourceLogs().At(i).Resource().Attributes(), now)
	}
	return plogotlp.NewExportResponse(), nil
}

type sinkMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
}

// Export discards the slo connector's metrics.
func (m *sinkMetrics) Export(context.Context, pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	return pmetricotlp.NewExportResponse(), nil
}

// count is the number of items of a signal received so far.
func (s *countingSink) count(sig signal) int64 {
	if sig == logs {
		return s.logs.Load()
	}
	return s.spans.Load()
}
