package correlation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func newTraces(service string, spans ...map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	for _, attrs := range spans {
		s := ss.AppendEmpty()
		s.SetTraceID(traceID(w3cTrace))
		s.SetSpanID(spanID(w3cSpan))
		_ = s.Attributes().FromRaw(attrs)
	}
	return td
}

func TestTracesNormaliseCorrelationKeys(t *testing.T) {
	h := newHarness(t, createDefaultConfig().(*Config))
	out := h.consumeTraces(newTraces("api",
		map[string]any{"http.request.header.x-request-id": []any{" req-1 "}},
		map[string]any{"X-Request-ID": "req-2"},
		map[string]any{"correlation.id": "kept", "request_id": "other"},
		map[string]any{"http.method": "GET"},
	))
	spans := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	want := []string{"req-1", "req-2", "kept", ""}
	for i, w := range want {
		v, ok := spans.At(i).Attributes().Get("correlation.id")
		if w == "" {
			assert.False(t, ok, "span %d", i)
			continue
		}
		if assert.True(t, ok, "span %d", i) {
			assert.Equal(t, w, v.Str(), "span %d", i)
		}
	}
	assertCounter(t, h, "obsd_correlation_spans_total", map[string]string{"service": "api", "outcome": "normalized"}, 2)
	assertCounter(t, h, "obsd_correlation_spans_total", map[string]string{"service": "api", "outcome": "present"}, 1)
	assertCounter(t, h, "obsd_correlation_spans_total", map[string]string{"service": "api", "outcome": "missing"}, 1)
}

func TestOrphanLogsAreCountedAgainstSpansOfTheSameComponent(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Orphans = OrphansConfig{Enabled: true, Window: time.Minute, MaxEntries: 10}
	h := newHarness(t, cfg)
	h.consumeTraces(newTraces("api", map[string]any{}))
	h.consume(newLogs(map[string]any{"service.name": "api"},
		record{trace: w3cTrace},
		record{attrs: map[string]any{"trace_id": w3cTrace}},
		record{trace: "ffffffffffffffffffffffffffffffff"},
		record{body: "no ids are not orphans"},
	))
	assertCounter(t, h, "obsd_correlation_orphan_log_records_total", map[string]string{"service": "api"}, 1)
}

func TestOrphanCountingIsOffByDefault(t *testing.T) {
	h := newHarness(t, createDefaultConfig().(*Config))
	h.consume(newLogs(map[string]any{"service.name": "api"}, record{trace: w3cTrace}))
	_, found := counterValue(t, h, "obsd_correlation_orphan_log_records_total", map[string]string{})
	assert.False(t, found)
}

func TestOrphanIndex(t *testing.T) {
	sec := int64(time.Second)
	id := func(b byte) [16]byte { var x [16]byte; x[15] = b; return x }
	tests := map[string]struct {
		max    int
		window time.Duration
		adds   []struct {
			id byte
			at int64
		}
		probe  byte
		at     int64
		want   bool
		maxLen int
	}{
		"a recently seen id is found": {
			max: 4, window: 10 * time.Second, adds: []struct {
				id byte
				at int64
			}{{1, 0}}, probe: 1, at: 5 * sec, want: true, maxLen: 1,
		},
		"an id past the window is not found": {
			max: 4, window: 10 * time.Second, adds: []struct {
				id byte
				at int64
			}{{1, 0}}, probe: 1, at: 11 * sec, want: false, maxLen: 1,
		},
		"the oldest id is evicted at the cap": {
			max: 2, window: time.Hour, adds: []struct {
				id byte
				at int64
			}{{1, 0}, {2, 1}, {3, 2}}, probe: 1, at: 3, want: false, maxLen: 2,
		},
		"a refreshed id survives past its first window": {
			max: 4, window: 10 * time.Second, adds: []struct {
				id byte
				at int64
			}{{1, 0}, {1, 6 * sec}}, probe: 1, at: 15 * sec, want: true, maxLen: 1,
		},
		"expired ids are removed when new ones arrive": {
			max: 8, window: 10 * time.Second, adds: []struct {
				id byte
				at int64
			}{{1, 0}, {2, 0}, {3, 20 * sec}}, probe: 3, at: 20 * sec, want: true, maxLen: 1,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			x := newOrphanIndex(tt.max, tt.window)
			for _, a := range tt.adds {
				x.mu.Lock()
				x.addLocked(id(a.id), a.at)
				x.mu.Unlock()
			}
			assert.Equal(t, tt.want, x.contains(id(tt.probe), tt.at))
			assert.LessOrEqual(t, x.len(), tt.maxLen)
		})
	}
}
