package correlation

import (
	"context"
	"encoding/hex"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

const (
	w3cTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	w3cSpan  = "00f067aa0ba902b7"
	w3cHdr   = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

func traceID(s string) pcommon.TraceID {
	var t pcommon.TraceID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) > 16 {
		panic("bad test trace id " + s)
	}
	copy(t[16-len(b):], b)
	return t
}

func spanID(s string) pcommon.SpanID {
	var t pcommon.SpanID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) > 8 {
		panic("bad test span id " + s)
	}
	copy(t[8-len(b):], b)
	return t
}

// record describes one input log record compactly.
type record struct {
	body     any            // string or map[string]any
	attrs    map[string]any // record attributes
	trace    string         // hex trace id already on the record
	span     string         // hex span id already on the record
	severity plog.SeverityNumber
}

// newLogs builds one resource per service (resource attributes given) with
// the records in order.
func newLogs(res map[string]any, recs ...record) plog.Logs {
	ld := plog.NewLogs()
	appendResource(ld, res, recs...)
	return ld
}

func appendResource(ld plog.Logs, res map[string]any, recs ...record) {
	rl := ld.ResourceLogs().AppendEmpty()
	putSorted(rl.Resource().Attributes(), res)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, r := range recs {
		lr := lrs.AppendEmpty()
		switch b := r.body.(type) {
		case string:
			lr.Body().SetStr(b)
		case map[string]any:
			putSorted(lr.Body().SetEmptyMap(), b)
		}
		putSorted(lr.Attributes(), r.attrs)
		if r.trace != "" {
			lr.SetTraceID(traceID(r.trace))
		}
		if r.span != "" {
			lr.SetSpanID(spanID(r.span))
		}
		lr.SetSeverityNumber(r.severity)
	}
}

// putSorted adds kv to m in key order, so that golden files are stable.
func putSorted(m pcommon.Map, kv map[string]any) {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := m.PutEmpty(k).FromRaw(kv[k]); err != nil {
			panic(err)
		}
	}
}

// harness runs one factory's logs and traces processors for a config.
type harness struct {
	t      *testing.T
	tel    *componenttest.Telemetry
	logs   processor.Logs
	traces processor.Traces
	sink   *consumertest.LogsSink
	tsink  *consumertest.TracesSink
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	h := &harness{t: t, tel: componenttest.NewTelemetry(), sink: new(consumertest.LogsSink), tsink: new(consumertest.TracesSink)}
	f := NewFactory()
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	var err error
	h.logs, err = f.CreateLogs(context.Background(), set, cfg, h.sink)
	require.NoError(t, err)
	h.traces, err = f.CreateTraces(context.Background(), set, cfg, h.tsink)
	require.NoError(t, err)
	host := componenttest.NewNopHost()
	require.NoError(t, h.logs.Start(context.Background(), host))
	require.NoError(t, h.traces.Start(context.Background(), host))
	t.Cleanup(func() {
		require.NoError(t, h.logs.Shutdown(context.Background()))
		require.NoError(t, h.traces.Shutdown(context.Background()))
		require.NoError(t, h.tel.Shutdown(context.Background()))
	})
	return h
}

func (h *harness) consume(ld plog.Logs) plog.Logs {
	h.t.Helper()
	before := len(h.sink.AllLogs())
	require.NoError(h.t, h.logs.ConsumeLogs(context.Background(), ld))
	all := h.sink.AllLogs()
	require.Len(h.t, all, before+1)
	return all[before]
}

func (h *harness) consumeTraces(td ptrace.Traces) ptrace.Traces {
	h.t.Helper()
	require.NoError(h.t, h.traces.ConsumeTraces(context.Background(), td))
	all := h.tsink.AllTraces()
	return all[len(all)-1]
}

// firstRecord returns the first record of the first resource.
func firstRecord(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func tagConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.DefaultPolicy.Action = ActionTag
	return cfg
}

var _ component.Config = tagConfig()
