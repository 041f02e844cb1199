package correlation

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

// FuzzLogsProcessor runs arbitrary bodies and header values through the
// whole lookup with the tag action and checks that no input panics, that a
// trace id is written only when the record is tagged lifted, and never a
// zero one.
func FuzzLogsProcessor(f *testing.F) {
	f.Add(`{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "abc:de:0:1")
	f.Add(`level=info dd.trace_id=12 b3=x`, "", "")
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	p, err := newLogsProcessor(set, tagConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, traceparent, uber string) {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Body().SetStr(body)
		lr.Attributes().PutStr("traceparent", traceparent)
		lr.Attributes().PutStr("uber-trace-id", uber)
		if _, err := p.processLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		tag, ok := lr.Attributes().Get(TagAttribute)
		if !ok {
			t.Fatal("tag action did not tag")
		}
		lifted := tag.Str() == "lifted"
		if lifted == lr.TraceID().IsEmpty() {
			t.Fatalf("outcome %q with trace id %v", tag.Str(), lr.TraceID())
		}
	})
}
