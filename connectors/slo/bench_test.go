package slo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkConsumeSpans: one batch of 100 server spans matching a span SLI.
func BenchmarkConsumeSpans(b *testing.B) {
	h := benchHarness(b)
	span := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: t0.Add(time.Second), status: 500}
	td := traces(repeat(100, span)...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.traces.ConsumeTraces(ctx, td)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
}

// BenchmarkConsumeSums: 100 delta sum points of the ratio SLI (group_by region).
func BenchmarkConsumeSums(b *testing.B) {
	h := benchHarness(b)
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http_requests_total")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for i := range 100 {
		dp := s.DataPoints().AppendEmpty()
		dp.Attributes().PutStr("code", []string{"200", "500"}[i%2])
		dp.Attributes().PutStr("region", []string{"eu", "us", "ap"}[i%3])
		dp.Attributes().PutInt("pod", int64(i))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
		dp.SetDoubleValue(1)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.metrics.ConsumeMetrics(ctx, md)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/point")
}

func benchHarness(b *testing.B) *harness {
	return newHarness(b, testConfig(b.TempDir()), t0)
}

// BenchmarkEvaluate1k: one evaluation of 1,000 group instances, with the
// pdata emission and the self-telemetry records.
func BenchmarkEvaluate1k(b *testing.B) {
	h := benchHarness(b)
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http_requests_total")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for i := range 1000 {
		dp := s.DataPoints().AppendEmpty()
		dp.Attributes().PutStr("code", "500")
		dp.Attributes().PutInt("region", int64(i))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
		dp.SetDoubleValue(1)
	}
	if err := h.metrics.ConsumeMetrics(context.Background(), md); err != nil {
		b.Fatal(err)
	}
	at := t0.Add(time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.evaluate(at)
		h.sink.Reset()
	}
}

// BenchmarkConsumeSpans100SLOs: 100 server spans of 10 services and 10
// routes against 100 span SLIs (one per service and route, as in the
// bench/ harness's full profile): each span is matched only against the
// 10 SLIs of its service, and literal routes are compared as strings.
func BenchmarkConsumeSpans100SLOs(b *testing.B) {
	h := hundredSLOHarness(b, "{spans: {route: '/r/%[2]d', bad: {http_5xx: true}}}")
	var spans []spanSpec
	for i := range 100 {
		spans = append(spans, spanSpec{svc: fmt.Sprintf("svc-%d", i%10), name: "GET", route: fmt.Sprintf("/r/%d", i/10),
			kind: ptrace.SpanKindServer, end: t0.Add(time.Second), status: 200})
	}
	td := traces(spans...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.traces.ConsumeTraces(ctx, td)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
}

// BenchmarkConsumeLogs100SLOs: 100 JSON access-log records of 10 services
// and 10 paths against 100 log SLIs reading body.path and body.status
// (as in the bench/ harness's full profile): each record is matched only
// against its service's 10 SLIs and each body field is scanned once.
func BenchmarkConsumeLogs100SLOs(b *testing.B) {
	h := hundredSLOHarness(b, "{logs: {total: '{body.path=\"/r/%[2]d\"}', bad: '{body.status=~\"5..\"}'}}")
	var records []logSpec
	for i := range 100 {
		records = append(records, logSpec{svc: fmt.Sprintf("svc-%d", i%10), ts: t0.Add(time.Second),
			body: fmt.Sprintf(`{"level":"info","msg":"request served","method":"GET","path":"/r/%d","status":200,"duration_ms":12,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`, i/10)})
	}
	ld := logsOf(records...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.logs.ConsumeLogs(ctx, ld)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
}

// hundredSLOHarness starts the connector on 100 SLOs, one per service
// svc-0..svc-9 and route 0..9; sli is a format with %[1]d the service and
// %[2]d the route.
func hundredSLOHarness(b *testing.B, sli string) *harness {
	path := hundredSLOFile(b, sli)
	cfg := testConfig(filepath.Dir(path))
	cfg.SLOs = []string{path}
	return newHarness(b, cfg, t0)
}

// hundredSLOFile writes hundredSLOHarness's SLO file and returns its path.
func hundredSLOFile(b *testing.B, sli string) string {
	dir := b.TempDir()
	var file strings.Builder
	file.WriteString("version: obsd/v1\nslos:\n")
	for s := range 10 {
		for r := range 10 {
			fmt.Fprintf(&file, "  - {name: svc-%d-r%d, service: svc-%d, objective: 99.5, sli: %s}\n", s, r, s, fmt.Sprintf(sli, s, r))
		}
	}
	path := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkConsumeDiscoveredSpans: one resource of 100 server spans of a
// service without SLOs of its own, counted in both discovered SLOs.
func BenchmarkConsumeDiscoveredSpans(b *testing.B) {
	h := newHarness(b, discoverConfig(b.TempDir(), 100), t0)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "demo")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range 100 {
		sp := spans.AppendEmpty()
		sp.SetName("GET /orders")
		sp.SetKind(ptrace.SpanKindServer)
		sp.Attributes().PutInt("http.response.status_code", []int64{200, 500}[i%2])
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * 10 * time.Millisecond)))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.traces.ConsumeTraces(ctx, td)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
}
