package loki

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// BenchmarkBuildPush measures conversion of 8,192 records (16 services,
// trace ids, two attributes each) into one push request, and its marshalling.
func BenchmarkBuildPush(b *testing.B) {
	ld := plog.NewLogs()
	for s := range 16 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", s))
		rl.Resource().Attributes().PutStr("k8s.namespace.name", "prod")
		rl.Resource().Attributes().PutStr("k8s.pod.name", fmt.Sprintf("svc-%d-7f9c", s))
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range 512 {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Millisecond)))
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetTraceID(traceID)
			lr.SetSpanID(spanID)
			lr.Attributes().PutStr("http.method", "GET")
			lr.Attributes().PutInt("http.status_code", 200)
			lr.Body().SetStr(fmt.Sprintf("request served path=/api/v1/items/%08d", i))
		}
	}
	tmpl := newConverter(DefaultLabels)
	resources := []int{}
	for i := range ld.ResourceLogs().Len() {
		resources = append(resources, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int
	for b.Loop() {
		req, lines := tmpl.fork().build(ld, resources)
		raw, err := req.Marshal()
		if err != nil || lines != 8192 {
			b.Fatal(err, lines)
		}
		bytes = len(raw)
	}
	b.SetBytes(int64(bytes))
	b.ReportMetric(8192*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
