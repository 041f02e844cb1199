package slo

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

func benchLogs(b *testing.B, ld plog.Logs, n int) {
	h := newHarness(b, logsConfig(b.TempDir()), t0)
	ctx := context.Background()
	_ = h.logs.ConsumeLogs(ctx, ld) // instances created
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.logs.ConsumeLogs(ctx, ld)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(testing.AllocsPerRun(10, func() { _ = h.logs.ConsumeLogs(ctx, ld) }))/float64(n), "allocs/record")
}

// oneResource puts n records of spec s under one resource.
func oneResource(n int, s logSpec) plog.Logs {
	ld := logsOf(s)
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for range n - 1 {
		lrs.At(0).CopyTo(lrs.AppendEmpty())
	}
	return ld
}

// BenchmarkConsumeLogsAttributes: 100 access-log records matched on
// record attributes (route regex, int status code).
func BenchmarkConsumeLogsAttributes(b *testing.B) {
	at := t0.Add(time.Second)
	benchLogs(b, oneResource(100, logSpec{svc: "checkout", ts: at,
		attrs: map[string]any{"http.route": "/api/pay", "http.status_code": 503, "user_agent.original": "curl/8"}}), 100)
}

// BenchmarkConsumeLogsJSONBody: 100 records whose status and method are
// fields of a JSON string body.
func BenchmarkConsumeLogsJSONBody(b *testing.B) {
	at := t0.Add(time.Second)
	benchLogs(b, oneResource(100, logSpec{svc: "web", ts: at,
		body: `{"ts":"2026-01-01T00:00:00Z","level":"info","req":{"method":"GET","path":"/api/pay"},"status":503,"bytes":1234}`}), 100)
}

// BenchmarkConsumeLogsSeverity: 100 records of a min_severity SLI.
func BenchmarkConsumeLogsSeverity(b *testing.B) {
	at := t0.Add(time.Second)
	benchLogs(b, oneResource(100, logSpec{svc: "worker", ts: at, sev: plog.SeverityNumberError}), 100)
}

// BenchmarkConsumeLogsGrouped: 100 records of a group_by route SLI.
func BenchmarkConsumeLogsGrouped(b *testing.B) {
	at := t0.Add(time.Second)
	benchLogs(b, oneResource(100, logSpec{svc: "edge", ts: at,
		attrs: map[string]any{"http.route": "/r1", "http.status_code": 200}}), 100)
}

// BenchmarkConsumeLogsOverflow: 100 records of a route beyond the
// group_by cap (1,000 routes seen before), counted in the overflow instance.
func BenchmarkConsumeLogsOverflow(b *testing.B) {
	h := newHarness(b, logsConfig(b.TempDir()), t0)
	ctx := context.Background()
	at := t0.Add(time.Second)
	_ = h.logs.ConsumeLogs(ctx, edgeLogs(0, 1000, at))
	ld := oneResource(100, logSpec{svc: "edge", ts: at, attrs: map[string]any{"http.route": "/beyond", "http.status_code": 200}})
	_ = h.logs.ConsumeLogs(ctx, ld)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.logs.ConsumeLogs(ctx, ld)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
}
