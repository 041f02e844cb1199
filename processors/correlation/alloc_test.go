//go:build !race

// Allocation counts are only meaningful without the race detector, whose
// instrumentation allocates and whose sync.Pool drops items at random: the
// README's go test ./... runs these tests, CI's race stage leaves them out.

package correlation

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

// Ids of the records below (W3C trace context example).
const (
	allocTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	allocSpan  = "00f067aa0ba902b7"
)

// TestPerRecordPathAllocatesNothing holds the processor, built by its
// factory and fed through ConsumeLogs as a pipeline feeds it, to what
// README.md states: correlation allocates nothing per record, whether the
// record carries its ids, has them lifted from its JSON body or a
// traceparent attribute, or has none. Each case runs a batch of 100 and one
// of 1,000 records: the allocations per batch (the pipeline helper's and
// the counters', per batch) must not grow with the batch.
func TestPerRecordPathAllocatesNothing(t *testing.T) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	decodeHex(t, allocTrace, tid[:])
	decodeHex(t, allocSpan, sid[:])
	tests := []struct {
		name string
		mk   func(plog.LogRecord)
		// lifts says the processor sets the ids: they are cleared before
		// each run so that it lifts them again.
		lifts bool
	}{
		{"ids present, plain body", func(lr plog.LogRecord) {
			lr.SetTraceID(tid)
			lr.SetSpanID(sid)
			lr.Body().SetStr("GET /api/orders 200 12ms")
			lr.Attributes().PutStr("http.method", "GET")
			lr.Attributes().PutInt("http.status_code", 200)
		}, false},
		{"ids present, JSON body", func(lr plog.LogRecord) {
			lr.SetTraceID(tid)
			lr.Body().SetStr(`{"level":"info","msg":"order created","order":1234,"user":"u-42","latency_ms":12}`)
		}, false},
		{"ids lifted from the JSON body", func(lr plog.LogRecord) {
			lr.Body().SetStr(`{"level":"info","msg":"order created","trace_id":"` + allocTrace + `","span_id":"` + allocSpan + `"}`)
		}, true},
		{"ids lifted from a traceparent attribute", func(lr plog.LogRecord) {
			lr.Body().SetStr("GET /api/orders 200")
			lr.Attributes().PutStr("traceparent", "00-"+allocTrace+"-"+allocSpan+"-01")
		}, true},
		{"no ids anywhere, tagged missing", func(lr plog.LogRecord) {
			lr.Body().SetStr("GET /api/orders 200 12ms from 10.0.0.1")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFactory()
			p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(Type), f.CreateDefaultConfig(), consumertest.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			run := func(n int) func() {
				ld := plog.NewLogs()
				rl := ld.ResourceLogs().AppendEmpty()
				rl.Resource().Attributes().PutStr("service.name", "orders")
				lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
				for range n {
					tt.mk(lrs.AppendEmpty())
				}
				return func() {
					if tt.lifts {
						for i := range lrs.Len() {
							lrs.At(i).SetTraceID(pcommon.NewTraceIDEmpty())
							lrs.At(i).SetSpanID(pcommon.NewSpanIDEmpty())
						}
					}
					if err := p.ConsumeLogs(context.Background(), ld); err != nil {
						t.Fatal(err)
					}
					if tt.lifts && lrs.At(n-1).TraceID() != tid {
						t.Fatalf("the trace id was not lifted: %s", lrs.At(n-1).TraceID())
					}
				}
			}
			small, large := run(100), run(1000)
			small() // tags and counters exist from here on
			large()
			allocs100 := testing.AllocsPerRun(20, small)
			allocs1000 := testing.AllocsPerRun(20, large)
			t.Logf("allocations per batch: %.0f for 100 records, %.0f for 1,000", allocs100, allocs1000)
			if allocs1000 > allocs100 {
				t.Errorf("a batch of 1,000 records allocates %.0f times, one of 100 %.0f: the processor allocates per record", allocs1000, allocs100)
			}
			// Measured: 5 per batch, the processor helper's and the
			// per-resource counters'.
			if allocs1000 > 8 {
				t.Errorf("a batch allocates %.0f times, more than the few per batch expected (5 measured)", allocs1000)
			}
		})
	}
}

func decodeHex(t *testing.T, s string, dst []byte) {
	t.Helper()
	if len(s) != 2*len(dst) {
		t.Fatalf("%q is not %d bytes of hex", s, len(dst))
	}
	for i := range dst {
		var b byte
		for _, c := range []byte(s[2*i : 2*i+2]) {
			switch {
			case c >= '0' && c <= '9':
				b = b<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				b = b<<4 | (c - 'a' + 10)
			default:
				t.Fatalf("%q is not hex", s)
			}
		}
		dst[i] = b
	}
}
