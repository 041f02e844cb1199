package correlation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// counterValue sums the data points of an int64 counter whose attributes
// include every label in want.
func counterValue(t *testing.T, h *harness, name string, want map[string]string) (int64, bool) {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0, false
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is not an int64 sum", name)
	var total int64
	found := false
	for _, dp := range sum.DataPoints {
		if hasLabels(dp.Attributes, want) {
			total += dp.Value
			found = true
		}
	}
	return total, found
}

func hasLabels(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.AsString() != v {
			return false
		}
	}
	return true
}

func assertCounter(t *testing.T, h *harness, name string, labels map[string]string, want int64) {
	t.Helper()
	got, ok := counterValue(t, h, name, labels)
	assert.True(t, ok, "%s%v has no data point", name, labels)
	assert.Equal(t, want, got, "%s%v", name, labels)
}

func TestMetricsCountOutcomesReasonsAndCoverage(t *testing.T) {
	h := newHarness(t, createDefaultConfig().(*Config))
	h.consume(newLogs(map[string]any{"service.name": "api"},
		record{trace: w3cTrace},
		record{trace: w3cTrace},
		record{attrs: map[string]any{"traceparent": w3cHdr}},
		record{attrs: map[string]any{"trace_id": "A3CE929D0E0E4736"}},
		record{body: "plain"},
		record{attrs: map[string]any{"trace_id": "00000000000000000000000000000000"}},
		record{attrs: map[string]any{"trace_id": "123"}},
		record{attrs: map[string]any{"trace_id": "xx000000000000000000000000000000"}},
		record{attrs: map[string]any{"traceparent": "ff" + w3cHdr[2:]}},
		record{attrs: map[string]any{"trace_id": "4bf92f3577b34da60000000000000000"}},
	))
	rec := "obsd_correlation_log_records_total"
	assertCounter(t, h, rec, map[string]string{"service": "api", "outcome": "present", "source": "none"}, 2)
	assertCounter(t, h, rec, map[string]string{"service": "api", "outcome": "lifted", "source": "traceparent"}, 1)
	assertCounter(t, h, rec, map[string]string{"service": "api", "outcome": "lifted", "source": "trace_id"}, 1)
	assertCounter(t, h, rec, map[string]string{"service": "api", "outcome": "missing"}, 1)
	assertCounter(t, h, rec, map[string]string{"service": "api", "outcome": "invalid"}, 5)
	for _, reason := range []string{"all_zero", "bad_length", "non_hex", "bad_version", "partial_64bit"} {
		assertCounter(t, h, "obsd_correlation_invalid_total", map[string]string{"service": "api", "reason": reason}, 1)
	}
	assertCounter(t, h, "obsd_correlation_uppercase_ids_total", map[string]string{"service": "api"}, 1)
	assertCounter(t, h, "obsd_correlation_padded_ids_total", map[string]string{"service": "api"}, 1)

	m, err := h.tel.GetMetric("obsd_correlation_coverage_ratio")
	require.NoError(t, err)
	g, ok := m.Data.(metricdata.Gauge[float64])
	require.True(t, ok)
	require.Len(t, g.DataPoints, 1)
	assert.InDelta(t, 0.4, g.DataPoints[0].Value, 1e-9)
	assert.True(t, hasLabels(g.DataPoints[0].Attributes, map[string]string{"service": "api"}))
}

func TestMetricsCapServiceCardinality(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.MaxServices = 2
	h := newHarness(t, cfg)
	for _, svc := range []string{"a", "b", "c", "d"} {
		h.consume(newLogs(map[string]any{"service.name": svc}, record{body: "x"}))
	}
	h.consume(newLogs(map[string]any{}, record{body: "x"}))
	rec := "obsd_correlation_log_records_total"
	assertCounter(t, h, rec, map[string]string{"service": "a"}, 1)
	assertCounter(t, h, rec, map[string]string{"service": "b"}, 1)
	assertCounter(t, h, rec, map[string]string{"service": "other"}, 3)
	_, found := counterValue(t, h, rec, map[string]string{"service": "c"})
	assert.False(t, found, "services past the cap must not get their own label")
}
