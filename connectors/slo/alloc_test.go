//go:build !race

// Allocation counts are only meaningful without the race detector, whose
// instrumentation allocates and whose sync.Pool drops items at random: the
// README's go test ./... runs these tests, CI's race stage leaves them out.

package slo

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// sums is one resource of n delta sum points of the ratio SLI of
// testdata/slos.yaml (http_requests_total, group_by region).
func sums(n int, at time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http_requests_total")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for i := range n {
		dp := s.DataPoints().AppendEmpty()
		dp.Attributes().PutStr("code", []string{"200", "500"}[i%2])
		dp.Attributes().PutStr("region", []string{"eu", "us", "ap"}[i%3])
		dp.Attributes().PutInt("pod", int64(i))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
		dp.SetDoubleValue(1)
	}
	return md
}

// TestFeedsAllocateNothingPerItem holds the connector's feeds (spans,
// metric points, log records by attribute, JSON body field and severity,
// grouped) to what README.md and this package's README state: nothing is
// allocated per item. Each feed consumes a batch of 100 and one of 1,000
// items (after a first batch that created the instances): the allocations
// per batch must not grow with the batch, and stay within the few per
// batch stated (scratch buffers for log records).
func TestFeedsAllocateNothingPerItem(t *testing.T) {
	at := t0.Add(time.Second)
	ctx := context.Background()
	tests := []struct {
		name string
		logs bool // the feed reads testdata/logs_slos.yaml
		// perBatch is the most allocations a batch may make.
		perBatch float64
		consume  func(h *harness, n int) func()
	}{
		{"server spans of a span SLI (route regexp, status)", false, 0, func(h *harness, n int) func() {
			td := traces(repeat(n, spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: at, status: 500})...)
			return func() { _ = h.traces.ConsumeTraces(ctx, td) }
		}},
		{"delta sum points of a ratio SLI grouped by region", false, 0, func(h *harness, n int) func() {
			md := sums(n, at)
			return func() { _ = h.metrics.ConsumeMetrics(ctx, md) }
		}},
		{"log records matched on attributes", true, 1, func(h *harness, n int) func() {
			ld := oneResource(n, logSpec{svc: "checkout", ts: at,
				attrs: map[string]any{"http.route": "/api/pay", "http.status_code": 503, "user_agent.original": "curl/8"}})
			return func() { _ = h.logs.ConsumeLogs(ctx, ld) }
		}},
		// The JSON scanner's per-batch scratch: a handful per batch.
		{"log records matched on JSON body fields", true, 5, func(h *harness, n int) func() {
			ld := oneResource(n, logSpec{svc: "web", ts: at,
				body: `{"ts":"2026-01-01T00:00:00Z","level":"info","req":{"method":"GET","path":"/api/pay"},"status":503,"bytes":1234}`})
			return func() { _ = h.logs.ConsumeLogs(ctx, ld) }
		}},
		{"log records of a min_severity SLI", true, 1, func(h *harness, n int) func() {
			ld := oneResource(n, logSpec{svc: "worker", ts: at, sev: plog.SeverityNumberError})
			return func() { _ = h.logs.ConsumeLogs(ctx, ld) }
		}},
		{"log records grouped by route", true, 1, func(h *harness, n int) func() {
			ld := oneResource(n, logSpec{svc: "edge", ts: at, attrs: map[string]any{"http.route": "/r1", "http.status_code": 200}})
			return func() { _ = h.logs.ConsumeLogs(ctx, ld) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			if tt.logs {
				cfg = logsConfig(t.TempDir())
			}
			h := newHarness(t, cfg, t0)
			small, large := tt.consume(h, 100), tt.consume(h, 1000)
			small() // the instances exist from here on
			large()
			allocs100 := testing.AllocsPerRun(20, small)
			allocs1000 := testing.AllocsPerRun(20, large)
			t.Logf("allocations per batch: %.0f for 100 items, %.0f for 1,000", allocs100, allocs1000)
			if allocs1000 > allocs100 {
				t.Errorf("a batch of 1,000 items allocates %.0f times, one of 100 %.0f: the feed allocates per item", allocs1000, allocs100)
			}
			if allocs1000 > tt.perBatch {
				t.Errorf("a batch allocates %.0f times, more than the %.0f stated", allocs1000, tt.perBatch)
			}
		})
	}
}
