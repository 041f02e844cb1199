package slo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/obsd-dev/obsd/slo/contract"
)

// promHistogram builds the Prometheus-style series of a latency SLI:
// <name>_count and <name>_bucket for two le values, cumulative.
func promHistogram(start, ts time.Time, count, good, other float64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	add := func(name, le string, v float64) {
		m := ms.AppendEmpty()
		m.SetName(name)
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dp := s.DataPoints().AppendEmpty()
		if le != "" {
			dp.Attributes().PutStr("le", le)
		}
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(v)
	}
	add("http_server_duration_seconds_count", "", count)
	add("http_server_duration_seconds_bucket", "0.5", good)
	add("http_server_duration_seconds_bucket", "1", other)
	return md
}

func TestPrometheusStyleHistogramSeriesFeedLatencySLOs(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	ctx := context.Background()
	start := t0.Add(time.Second)
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, promHistogram(start, t0.Add(10*time.Second), 10, 8, 9)))
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, promHistogram(start, t0.Add(40*time.Second), 30, 21, 28)))
	h.evaluate(t0.Add(time.Minute))
	sel := map[string]string{"slo": "api-latency"}
	v, ok := h.telemetry(contract.MetricEvents, sel)
	require.True(t, ok)
	assert.Equal(t, 30.0, v, "the _count series is every event")
	v, _ = h.telemetry(contract.MetricBadEvents, sel)
	assert.Equal(t, 9.0, v, "count minus the le=\"0.5\" bucket; other buckets ignored")
}

func TestInstancesOfOneIDShareAnEngineAndIDsDoNot(t *testing.T) {
	f := newFactory(func() time.Time { return t0 })
	fact := f.build()
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := connectortest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.ID = component.NewID(Type)
	other := set
	other.ID = component.NewIDWithName(Type, "other")
	cfg := testConfig(t.TempDir())
	ctx := context.Background()
	sink := new(consumertest.MetricsSink)

	tr, err := fact.CreateTracesToMetrics(ctx, set, cfg, sink)
	require.NoError(t, err)
	latest := new(consumertest.MetricsSink)
	lg, err := fact.CreateLogsToMetrics(ctx, set, cfg, latest)
	require.NoError(t, err)
	assert.Same(t, latest, (*lg.(*sloConnector).ref.Value().next.Load()).(*consumertest.MetricsSink),
		"the latest created instance's consumer receives the metrics")
	ot, err := fact.CreateMetricsToMetrics(ctx, other, testConfig(t.TempDir()), sink)
	require.NoError(t, err)
	require.Same(t, tr.(*sloConnector).ref.Value(), lg.(*sloConnector).ref.Value(), "one engine per component ID")
	require.NotSame(t, tr.(*sloConnector).ref.Value(), ot.(*sloConnector).ref.Value(), "another ID has its own engine")

	host := componenttest.NewNopHost()
	for _, c := range []component.Component{tr, lg, ot} {
		require.NoError(t, c.Start(ctx, host))
	}
	require.NoError(t, lg.ConsumeLogs(ctx, plog.NewLogs()), "logs are accepted")
	require.NoError(t, tr.Shutdown(ctx))
	assert.Equal(t, 2, f.runners.Len(), "the logs instance still holds the engine")
	require.NoError(t, lg.Shutdown(ctx))
	require.NoError(t, lg.Shutdown(ctx), "a second shutdown is a no-op")
	require.NoError(t, ot.Shutdown(ctx))
	assert.Zero(t, f.runners.Len(), "the last shutdown of each ID releases its engine")
	assert.Empty(t, sink.AllMetrics(), "logs produce no metrics and nothing is passed through")
}
