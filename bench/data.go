package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// The load is shaped like a node's traffic: services svc-0..svc-9, each
// with routes /r/0../r/9, so that the 100 SLOs of the full profile each
// match one (service, route) pair. One span or log record in 50 is an
// error.
const (
	services      = 10
	routes        = 10
	probeAttr     = "bench.probe"
	errorOneInN   = 50
	resourcesEach = 5 // resources per request; items are spread evenly
)

// signal is a kind of telemetry the harness can send.
type signal string

const (
	spans signal = "spans"
	logs  signal = "logs"
)

// grpcMethod is the OTLP gRPC method that takes a signal.
func (s signal) grpcMethod() string {
	if s == logs {
		return "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	}
	return "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
}

// encodeRequests pre-encodes n distinct OTLP export requests of perReq
// items each, so that the load generator spends no time encoding.
func encodeRequests(sig signal, n, perReq int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range out {
		b, err := encodeRequest(sig, uint64(i), perReq, -1)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// encodeRequest builds one request; a probe (probe >= 0) carries its
// sequence number as a resource attribute so the sink can time it.
func encodeRequest(sig signal, seed uint64, perReq int, probe int64) ([]byte, error) {
	now := time.Now()
	if sig == logs {
		return plogotlp.NewExportRequestFromLogs(buildLogs(seed, perReq, probe, now)).MarshalProto()
	}
	return ptraceotlp.NewExportRequestFromTraces(buildTraces(seed, perReq, probe, now)).MarshalProto()
}

func ids(seed uint64, i int) (pcommon.TraceID, pcommon.SpanID) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	binary.BigEndian.PutUint64(tid[:8], seed+1)
	binary.BigEndian.PutUint64(tid[8:], uint64(i)+1)
	binary.BigEndian.PutUint64(sid[:], seed<<20|uint64(i)+1)
	return tid, sid
}

func setResource(r pcommon.Resource, svc int, probe int64) {
	r.Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", svc))
	r.Attributes().PutStr("k8s.namespace.name", "bench")
	r.Attributes().PutStr("k8s.pod.name", fmt.Sprintf("svc-%d-7d9f8b6c5-x2x4z", svc))
	if probe >= 0 {
		r.Attributes().PutInt(probeAttr, probe)
	}
}

func buildTraces(seed uint64, perReq int, probe int64, now time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	per := perReq / resourcesEach
	item := 0
	for r := 0; r < resourcesEach; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		svc := int(seed+uint64(r)) % services
		setResource(rs.Resource(), svc, probe)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("bench")
		for i := 0; i < per; i++ {
			s := ss.Spans().AppendEmpty()
			tid, sid := ids(seed, item)
			s.SetTraceID(tid)
			s.SetSpanID(sid)
			route := item % routes
			s.SetName(fmt.Sprintf("GET /r/%d", route))
			s.SetKind(ptrace.SpanKindServer)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-20 * time.Millisecond)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
			s.Attributes().PutStr("http.request.method", "GET")
			s.Attributes().PutStr("http.route", fmt.Sprintf("/r/%d", route))
			code := int64(200)
			if item%errorOneInN == 0 {
				code = 503
				s.Status().SetCode(ptrace.StatusCodeError)
			}
			s.Attributes().PutInt("http.response.status_code", code)
			item++
		}
	}
	return td
}

func buildLogs(seed uint64, perReq int, probe int64, now time.Time) plog.Logs {
	ld := plog.NewLogs()
	per := perReq / resourcesEach
	item := 0
	for r := 0; r < resourcesEach; r++ {
		rl := ld.ResourceLogs().AppendEmpty()
		svc := int(seed+uint64(r)) % services
		setResource(rl.Resource(), svc, probe)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("bench")
		for i := 0; i < per; i++ {
			lr := sl.LogRecords().AppendEmpty()
			tid, sid := ids(seed, item)
			route := item % routes
			code, sev, level := 200, plog.SeverityNumberInfo, "info"
			if item%errorOneInN == 0 {
				code, sev, level = 503, plog.SeverityNumberError, "error"
			}
			lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
			lr.SetSeverityNumber(sev)
			lr.SetSeverityText(level)
			// A JSON access log with the ids in the body: the correlation
			// processor lifts them into TraceId/SpanId.
			lr.Body().SetStr(fmt.Sprintf(
				`{"level":%q,"msg":"request served","method":"GET","path":"/r/%d","status":%d,"duration_ms":12,"trace_id":%q,"span_id":%q}`,
				level, route, code, hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:])))
			lr.Attributes().PutStr("http.route", fmt.Sprintf("/r/%d", route))
			lr.Attributes().PutInt("http.response.status_code", int64(code))
			item++
		}
	}
	return ld
}
