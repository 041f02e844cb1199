package shed

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// benchLogs is 1,000 records, a third each DEBUG, INFO and ERROR.
func benchLogs() plog.Logs {
	specs := make([]logSpec, 0, 1000)
	for i := range 1000 {
		specs = append(specs, logSpec{name: "r", severity: []plog.SeverityNumber{plog.SeverityNumberDebug, plog.SeverityNumberInfo, plog.SeverityNumberError}[i%3],
			attrs: map[string]string{"http.route": "/x"}})
	}
	return makeLogs(map[string]string{"service.name": "web"}, specs...)
}

func BenchmarkLogsNoPressure(b *testing.B) {
	s, _ := newTestShedder(b, protectConfig(), signalLogs, LevelNone)
	ld := benchLogs()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.processLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
}

// BenchmarkLogsSheddingClassify measures the per-record cost of deciding,
// on a batch of WARN records none of which is shed (so the batch can be
// reused).
func BenchmarkLogsSheddingClassify(b *testing.B) {
	s, _ := newTestShedder(b, protectConfig(), signalLogs, LevelInfoLogs)
	specs := make([]logSpec, 1000)
	for i := range specs {
		specs[i] = logSpec{name: "w", severity: plog.SeverityNumberWarn}
	}
	ld := makeLogs(map[string]string{"service.name": "web"}, specs...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.processLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/record")
}

func BenchmarkLogsShedding(b *testing.B) {
	s, _ := newTestShedder(b, protectConfig(), signalLogs, LevelInfoLogs)
	src := benchLogs()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		ld := plog.NewLogs()
		src.CopyTo(ld)
		b.StartTimer()
		if _, err := s.processLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTracesNoPressure(b *testing.B) {
	s, _ := newTestShedder(b, protectConfig(), signalTraces, LevelInfoLogs)
	specs := make([]spanSpec, 1000)
	td := makeTraces(nil, specs...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.processTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
}
