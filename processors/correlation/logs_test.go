package correlation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

type liftWant struct {
	outcome string
	source  string
	trace   string // "" means empty
	span    string
	sampled bool
	reason  string
}

func TestLogsLiftEveryFormat(t *testing.T) {
	padded := "0000000000000000a3ce929d0e0e4736"
	lifted := func(src, trace, span string, sampled bool) liftWant {
		return liftWant{outcome: "lifted", source: src, trace: trace, span: span, sampled: sampled}
	}
	tests := map[string]struct {
		rec  record
		want liftWant
	}{
		"ids already on the record are kept": {
			record{trace: w3cTrace, span: w3cSpan, attrs: map[string]any{"trace_id": "ffffffffffffffffffffffffffffffff"}},
			liftWant{outcome: "present", trace: w3cTrace, span: w3cSpan},
		},
		"a W3C traceparent attribute is lifted with its flags": {
			record{attrs: map[string]any{"traceparent": w3cHdr}}, lifted("traceparent", w3cTrace, w3cSpan, true),
		},
		"a traceparent header name matches in any case": {
			record{attrs: map[string]any{"TraceParent": w3cHdr}}, lifted("traceparent", w3cTrace, w3cSpan, true),
		},
		"trace_id and span_id in a JSON body are lifted": {
			record{body: `{"msg":"ok","trace_id":"` + w3cTrace + `","span_id":"` + w3cSpan + `"}`}, lifted("trace_id", w3cTrace, w3cSpan, false),
		},
		"traceId and spanId attributes are lifted": {
			record{attrs: map[string]any{"traceId": w3cTrace, "spanId": w3cSpan}}, lifted("traceId", w3cTrace, w3cSpan, false),
		},
		"traceID in a map body is lifted": {
			record{body: map[string]any{"traceID": w3cTrace, "spanID": w3cSpan}}, lifted("traceID", w3cTrace, w3cSpan, false),
		},
		"an ECS trace.id nested object is lifted": {
			record{body: `{"trace":{"id":"` + w3cTrace + `"},"span":{"id":"` + w3cSpan + `"}}`}, lifted("trace.id", w3cTrace, w3cSpan, false),
		},
		"otelTraceID from a logfmt body is lifted": {
			record{body: `level=info otelTraceID=` + w3cTrace + ` otelSpanID=` + w3cSpan + ` msg="done"`}, lifted("otelTraceID", w3cTrace, w3cSpan, false),
		},
		"a 64-bit Jaeger zap trace is padded to 128 bits": {
			record{body: `{"trace":{"trace":"a3ce929d0e0e4736","span":"` + w3cSpan + `"}}`}, lifted("trace.trace", padded, w3cSpan, false),
		},
		"an uber-trace-id header is lifted": {
			record{attrs: map[string]any{"Uber-Trace-Id": "a3ce929d0e0e4736:" + w3cSpan + ":0:1"}}, lifted("uber-trace-id", padded, w3cSpan, true),
		},
		"a b3 single header is lifted": {
			record{attrs: map[string]any{"b3": w3cTrace + "-" + w3cSpan + "-1"}}, lifted("b3", w3cTrace, w3cSpan, true),
		},
		"X-B3 multi headers are lifted in any case": {
			record{attrs: map[string]any{"x-b3-traceid": "a3ce929d0e0e4736", "x-b3-spanid": w3cSpan}}, lifted("X-B3-TraceId", padded, w3cSpan, false),
		},
		"Datadog decimal ids in a JSON body are lifted": {
			record{body: `{"dd":{"trace_id":"1234567890123456789","span_id":"987654321"}}`}, lifted("dd.trace_id", "0000000000000000112210f47de98115", "000000003ade68b1", false),
		},
		"Datadog ids as integer attributes are lifted": {
			record{attrs: map[string]any{"dd.trace_id": int64(1234567890123456789)}}, lifted("dd.trace_id", "0000000000000000112210f47de98115", "", false),
		},
		"uppercase hex is accepted": {
			record{attrs: map[string]any{"trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736"}}, lifted("trace_id", w3cTrace, "", false),
		},
		"an invalid first key does not hide a valid later one": {
			record{attrs: map[string]any{"traceparent": "ff-junk", "trace_id": w3cTrace}}, lifted("trace_id", w3cTrace, "", false),
		},
		"attributes win over the body for the same key": {
			record{attrs: map[string]any{"trace_id": w3cTrace}, body: `{"trace_id":"ffffffffffffffffffffffffffffffff"}`}, lifted("trace_id", w3cTrace, "", false),
		},
		"an all-zero id is invalid": {
			record{attrs: map[string]any{"trace_id": "00000000000000000000000000000000"}}, liftWant{outcome: "invalid", reason: "all_zero"},
		},
		"a truncated id is invalid": {
			record{body: `{"trace_id":"4bf92f3577b34da6a3ce"}`}, liftWant{outcome: "invalid", reason: "bad_length"},
		},
		"a traceparent with version ff is invalid": {
			record{attrs: map[string]any{"traceparent": "ff" + w3cHdr[2:]}}, liftWant{outcome: "invalid", reason: "bad_version"},
		},
		"a plain line is missing": {
			record{body: "GET /index.html 200"}, liftWant{outcome: "missing"},
		},
		"garbage JSON is missing, not a panic": {
			record{body: `{"trace_id":`}, liftWant{outcome: "missing"},
		},
		"a request id is never used as a trace id": {
			record{attrs: map[string]any{"request_id": w3cTrace}}, liftWant{outcome: "missing"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, tagConfig())
			lr := firstRecord(h.consume(newLogs(map[string]any{"service.name": "api"}, tt.rec)))
			assertTag(t, lr, TagAttribute, tt.want.outcome)
			assertTag(t, lr, TagSourceAttribute, tt.want.source)
			assertTag(t, lr, TagReasonAttribute, tt.want.reason)
			if tt.want.trace == "" {
				assert.True(t, lr.TraceID().IsEmpty(), "no trace id may be minted")
			} else {
				assert.Equal(t, traceID(tt.want.trace), lr.TraceID())
			}
			if tt.want.span == "" {
				assert.True(t, lr.SpanID().IsEmpty())
			} else {
				assert.Equal(t, spanID(tt.want.span), lr.SpanID())
			}
			assert.Equal(t, tt.want.sampled, lr.Flags().IsSampled())
		})
	}
}

func assertTag(t *testing.T, lr plog.LogRecord, key, want string) {
	t.Helper()
	v, ok := lr.Attributes().Get(key)
	if want == "" {
		if ok {
			t.Errorf("attribute %s must not be set, is %q", key, v.AsString())
		}
		return
	}
	if assert.True(t, ok, "attribute %s must be set", key) {
		assert.Equal(t, want, v.Str())
	}
}

func TestLogsCorrelationKeysAreNormalised(t *testing.T) {
	tests := map[string]struct {
		rec  record
		want string
	}{
		"request_id in a JSON body is copied":           {record{body: `{"request_id":" r-1 "}`}, "r-1"},
		"X-Request-Id attributes match in any case":     {record{attrs: map[string]any{"X-Request-Id": "r-2"}}, "r-2"},
		"a record with ids still gets its request id":   {record{trace: w3cTrace, body: `request_id=r-3 msg=x`}, "r-3"},
		"an existing correlation attribute is kept":     {record{attrs: map[string]any{"correlation.id": "keep", "request_id": "r-4"}}, "keep"},
		"no key leaves the attribute unset":             {record{body: "plain"}, ""},
		"the first configured key wins over later ones": {record{attrs: map[string]any{"correlation_id": "c", "request_id": "r"}}, "r"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, createDefaultConfig().(*Config))
			lr := firstRecord(h.consume(newLogs(map[string]any{"service.name": "api"}, tt.rec)))
			assertTag(t, lr, "correlation.id", tt.want)
		})
	}
}

func TestLogsPolicies(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.DefaultPolicy = PolicyConfig{Name: "default", Action: ActionObserve}
	cfg.Policies = []PolicyConfig{
		{Name: "strict", Match: map[string][]string{"service.name": {"payments"}}, Action: ActionDrop, ExemptMinSeverity: "error"},
		{Name: "quarantine", Match: map[string][]string{"k8s.namespace.name": {"staging"}}, Action: ActionRoute},
	}
	h := newHarness(t, cfg)
	ld := newLogs(map[string]any{"service.name": "payments"},
		record{body: "no ids", severity: plog.SeverityNumberInfo},
		record{body: "no ids but an error", severity: plog.SeverityNumberError},
		record{attrs: map[string]any{"trace_id": w3cTrace}},
		record{attrs: map[string]any{"trace_id": "zz"}},
	)
	appendResource(ld, map[string]any{"service.name": "web", "k8s.namespace.name": "staging"},
		record{body: "no ids"}, record{trace: w3cTrace})
	appendResource(ld, map[string]any{"service.name": "web", "k8s.namespace.name": "prod"},
		record{body: "no ids"})
	out := h.consume(ld)

	payments := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if assert.Equal(t, 2, payments.Len(), "the drop policy drops missing and invalid records below error") {
		assert.Equal(t, "no ids but an error", payments.At(0).Body().Str())
		assert.Equal(t, traceID(w3cTrace), payments.At(1).TraceID())
	}
	staging := out.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords()
	assertTag(t, staging.At(0), "obsd.route", "quarantine")
	assertTag(t, staging.At(1), "obsd.route", "")
	prod := out.ResourceLogs().At(2).ScopeLogs().At(0).LogRecords()
	assert.Equal(t, 0, prod.At(0).Attributes().Len(), "the observe policy only counts")

	assertCounter(t, h, "obsd_correlation_dropped_total", map[string]string{"service": "payments", "policy": "strict"}, 2)
	assertCounter(t, h, "obsd_correlation_routed_total", map[string]string{"service": "web", "policy": "quarantine"}, 1)
}
