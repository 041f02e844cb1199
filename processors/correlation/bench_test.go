package correlation

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

const benchBatch = 1000

// benchLogs builds one batch of benchBatch records with make(i) each.
func benchLogs(mk func(plog.LogRecord)) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "bench")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for range benchBatch {
		mk(lrs.AppendEmpty())
	}
	return ld
}

// runLogsBench feeds the same batch through the processor function
// (without the pipeline plumbing) and reports records per second.
func runLogsBench(b *testing.B, cfg *Config, ld plog.Logs, reset func(plog.Logs)) {
	runLogsBenchWith(b, componenttest.NewNopTelemetrySettings(), cfg, ld, reset)
}

func runLogsBenchWith(b *testing.B, tel component.TelemetrySettings, cfg *Config, ld plog.Logs, reset func(plog.Logs)) {
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = tel
	p, err := newLogsProcessor(set, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if reset != nil {
			b.StopTimer()
			reset(ld)
			b.StartTimer()
		}
		if _, err := p.processLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
}

func BenchmarkLogs_PresentIDs(b *testing.B) {
	ld := benchLogs(func(lr plog.LogRecord) {
		lr.SetTraceID(traceID(w3cTrace))
		lr.SetSpanID(spanID(w3cSpan))
		lr.Body().SetStr("GET /api/orders 200 12ms")
		lr.Attributes().PutStr("http.method", "GET")
		lr.Attributes().PutInt("http.status_code", 200)
	})
	runLogsBench(b, createDefaultConfig().(*Config), ld, nil)
}

// BenchmarkLogs_PresentIDsSDKMetrics records into a real OTel SDK meter
// provider instead of the no-op one.
func BenchmarkLogs_PresentIDsSDKMetrics(b *testing.B) {
	tel := componenttest.NewTelemetry()
	defer func() { _ = tel.Shutdown(context.Background()) }()
	ld := benchLogs(func(lr plog.LogRecord) {
		lr.SetTraceID(traceID(w3cTrace))
		lr.Body().SetStr("GET /api/orders 200 12ms")
	})
	runLogsBenchWith(b, tel.NewTelemetrySettings(), createDefaultConfig().(*Config), ld, nil)
}

func BenchmarkLogs_PresentIDsJSONBody(b *testing.B) {
	ld := benchLogs(func(lr plog.LogRecord) {
		lr.SetTraceID(traceID(w3cTrace))
		lr.Body().SetStr(`{"level":"info","msg":"order created","order":1234,"user":"u-42","latency_ms":12}`)
	})
	runLogsBench(b, createDefaultConfig().(*Config), ld, nil)
}

func BenchmarkLogs_LiftFromJSONBody(b *testing.B) {
	body := `{"level":"info","ts":"2026-11-23T10:00:00Z","msg":"order created","order":1234,"trace_id":"` + w3cTrace + `","span_id":"` + w3cSpan + `"}`
	ld := benchLogs(func(lr plog.LogRecord) { lr.Body().SetStr(body) })
	runLogsBench(b, createDefaultConfig().(*Config), ld, clearIDs)
}

func BenchmarkLogs_LiftTraceparentAttribute(b *testing.B) {
	ld := benchLogs(func(lr plog.LogRecord) {
		lr.Body().SetStr("GET /api/orders 200")
		lr.Attributes().PutStr("traceparent", w3cHdr)
	})
	runLogsBench(b, createDefaultConfig().(*Config), ld, clearIDs)
}

func BenchmarkLogs_MissingPlainLine(b *testing.B) {
	ld := benchLogs(func(lr plog.LogRecord) { lr.Body().SetStr("GET /api/orders 200 12ms from 10.0.0.1") })
	runLogsBench(b, createDefaultConfig().(*Config), ld, nil)
}

// clearIDs undoes the lifting so that each iteration lifts again.
func clearIDs(ld plog.Logs) {
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := 0; i < lrs.Len(); i++ {
		lr := lrs.At(i)
		lr.SetTraceID([16]byte{})
		lr.SetSpanID([8]byte{})
	}
}
