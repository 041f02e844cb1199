package slo

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/obsd-dev/obsd/slo/contract"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// harness runs one connector component (traces and metrics instances on
// one shared engine) with a metrics sink and test telemetry.
type harness struct {
	t       testing.TB
	clock   *clock
	f       *factory
	tel     *componenttest.Telemetry
	sink    *consumertest.MetricsSink
	traces  connector.Traces
	metrics connector.Metrics
	logs    connector.Logs
	id      component.ID
}

func testConfig(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.SLOs = []string{"testdata/slos.yaml"}
	cfg.EvaluationInterval = time.Hour // stepped by hand
	cfg.State = StateConfig{Directory: dir, SnapshotInterval: time.Hour}
	return cfg
}

func newHarness(t testing.TB, cfg *Config, start time.Time) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{now: start}, tel: componenttest.NewTelemetry(), sink: new(consumertest.MetricsSink)}
	h.f = newFactory(h.clock.Now)
	fact := h.f.build()
	set := connectortest.NewNopSettings(Type)
	set.ID = component.NewID(Type) // stable: the state files are named after it
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	h.id = set.ID
	ctx := context.Background()
	var err error
	h.traces, err = fact.CreateTracesToMetrics(ctx, set, cfg, h.sink)
	require.NoError(t, err)
	h.metrics, err = fact.CreateMetricsToMetrics(ctx, set, cfg, h.sink)
	require.NoError(t, err)
	h.logs, err = fact.CreateLogsToMetrics(ctx, set, cfg, h.sink)
	require.NoError(t, err)
	for _, c := range []component.Component{h.traces, h.metrics, h.logs} {
		require.NoError(t, c.Start(ctx, componenttest.NewNopHost()))
	}
	t.Cleanup(func() { h.shutdown(); _ = h.tel.Shutdown(context.Background()) })
	return h
}

func (h *harness) shutdown() {
	for _, c := range []component.Component{h.traces, h.metrics, h.logs} {
		require.NoError(h.t, c.Shutdown(context.Background()))
	}
}

// evaluate steps the clock to at and runs one evaluation.
func (h *harness) evaluate(at time.Time) {
	h.clock.set(at)
	s, _ := h.f.runners.Get(h.id)
	require.NotNil(h.t, s, "no shared engine for %v", h.id)
	s.evaluate(context.Background(), at)
}

// telemetry returns the value of a self-telemetry metric for the attributes.
func (h *harness) telemetry(name string, want map[string]string) (float64, bool) {
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0, false
	}
	switch d := m.Data.(type) {
	case metricdata.Gauge[float64]:
		for _, dp := range d.DataPoints {
			if attrsMatch(dp.Attributes.ToSlice(), want) {
				return dp.Value, true
			}
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			if attrsMatch(dp.Attributes.ToSlice(), want) {
				return float64(dp.Value), true
			}
		}
	case metricdata.Sum[float64]:
		for _, dp := range d.DataPoints {
			if attrsMatch(dp.Attributes.ToSlice(), want) {
				return dp.Value, true
			}
		}
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			if attrsMatch(dp.Attributes.ToSlice(), want) {
				return float64(dp.Value), true
			}
		}
	}
	return 0, false
}

// attrsMatch reports whether kvs hold every wanted label.
func attrsMatch(kvs []attribute.KeyValue, want map[string]string) bool {
	n := 0
	for _, kv := range kvs {
		if v, ok := want[string(kv.Key)]; ok && kv.Value.AsString() == v {
			n++
		}
	}
	return n == len(want)
}

// span builds a span of svc ending at end.
type spanSpec struct {
	svc, name, route string
	kind             ptrace.SpanKind
	failed           bool
	status           int64
	dur              time.Duration
	end              time.Time
}

func traces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", s.svc)
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		if s.route != "" {
			sp.Attributes().PutStr("http.route", s.route)
		}
		if s.status != 0 {
			sp.Attributes().PutInt("http.status_code", s.status)
		}
		if s.failed {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.end.Add(-s.dur)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.end))
	}
	return td
}

func repeat(n int, s spanSpec) []spanSpec {
	out := make([]spanSpec, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestSpansFeedTheSLOAndFireThePage(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	end := t0.Add(10 * time.Second)
	ok := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, dur: 10 * time.Millisecond, end: end}
	var in []spanSpec
	in = append(in, repeat(6, ok)...)
	failed := ok
	failed.failed = true
	in = append(in, repeat(2, failed)...)
	http5xx := ok
	http5xx.status = 503
	in = append(in, repeat(1, http5xx)...)
	slow := ok
	slow.dur = time.Second
	in = append(in, repeat(1, slow)...)
	// Not counted: client spans, another service, another route, spans far in the future.
	client := failed
	client.kind = ptrace.SpanKindClient
	other := failed
	other.svc = "cart"
	route := failed
	route.route = "/cart"
	future := failed
	future.end = t0.Add(time.Hour)
	in = append(in, client, other, route, future)
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(in...)))

	h.evaluate(t0.Add(30 * time.Second))
	sel := map[string]string{"slo": "checkout-spans", "service": "checkout", "team": "payments"}
	got := func(name string, extra ...string) float64 {
		want := map[string]string{}
		for k, v := range sel {
			want[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			want[extra[i]] = extra[i+1]
		}
		v, found := h.telemetry(name, want)
		require.True(t, found, "%s%v not exposed", name, want)
		return v
	}
	assert.Equal(t, 10.0, got(contract.MetricEvents), "6 good + 4 bad server spans of /pay")
	assert.Equal(t, 4.0, got(contract.MetricBadEvents), "status error, HTTP 503 and over 500ms are bad")
	assert.Equal(t, 0.99, got(contract.MetricObjective))
	assert.Equal(t, float64(t0.Add(30*time.Second-time.Hour).Unix()), got(contract.MetricPeriodStart), "a rolling period (1h) ends now")
	assert.Equal(t, float64(t0.Add(30*time.Second).Unix()), got(contract.MetricPeriodEnd))
	assert.InDelta(t, 0.4, got(contract.MetricErrorRatio, "window", "5m"), 1e-9)
	assert.InDelta(t, 40, got(contract.MetricBurnRate, "window", "5m"), 1e-9)
	assert.Equal(t, 1.0, got(contract.MetricAlertActive, "severity", "page"))
	assert.Equal(t, 0.0, got(contract.MetricAlertActive, "severity", "ticket"))
	future0, _ := h.telemetry(contract.MetricPoints, map[string]string{"outcome": outcomeFuture})
	assert.Equal(t, 1.0, future0, "the span an hour ahead is dropped and counted")
	counted, _ := h.telemetry(contract.MetricPoints, map[string]string{"outcome": "counted"})
	assert.Equal(t, 10.0, counted)

	// The same numbers went down the metrics pipeline, and nothing else did.
	require.Len(t, h.sink.AllMetrics(), 1)
	md := h.sink.AllMetrics()[0]
	names := map[string]bool{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		names[ms.At(i).Name()] = true
		if ms.At(i).Name() == contract.MetricEvents {
			dp := ms.At(i).Sum().DataPoints().At(0)
			assert.Equal(t, 10.0, dp.DoubleValue())
			v, _ := dp.Attributes().Get("team")
			assert.Equal(t, "payments", v.Str())
		}
	}
	assert.Equal(t, map[string]bool{contract.MetricObjective: true, contract.MetricEvents: true, contract.MetricBadEvents: true, contract.MetricErrorRatio: true,
		contract.MetricBurnRate: true, contract.MetricBudgetRemaining: true, contract.MetricAlertActive: true, contract.MetricPeriodStart: true, contract.MetricPeriodEnd: true}, names)
}

func sumMetric(name string, temporality pmetric.AggregationTemporality, start, ts time.Time, points ...struct {
	code, region string
	v            float64
}) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "api")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(temporality)
	for _, p := range points {
		dp := s.DataPoints().AppendEmpty()
		dp.Attributes().PutStr("code", p.code)
		dp.Attributes().PutStr("region", p.region)
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		dp.SetDoubleValue(p.v)
	}
	return md
}

// TestAttributeOrderDoesNotSplitASeries: the same cumulative series sent
// with its attributes in another order is one series, so its increase is
// counted once.
func TestAttributeOrderDoesNotSplitASeries(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	ctx := context.Background()
	start := t0.Add(time.Second)
	cum := pmetric.AggregationTemporalityCumulative
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, sumMetric("http_requests_total", cum, start, t0.Add(10*time.Second), pt{"200", "eu", 90})))
	md := sumMetric("http_requests_total", cum, start, t0.Add(40*time.Second), pt{"200", "eu", 100})
	attrs := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).Attributes()
	attrs.Clear()
	attrs.PutStr("region", "eu") // the reverse of sumMetric's order
	attrs.PutStr("code", "200")
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, md))
	h.evaluate(t0.Add(time.Minute))
	v, ok := h.telemetry(contract.MetricEvents, map[string]string{"slo": "api-ratio", "service": "api", "region": "eu"})
	require.True(t, ok)
	assert.Equal(t, 100.0, v, "one series: 90 then 100, not 90 + 100")
}

// TestIdleSeriesAreForgotten: a series silent for longer than
// seriesIdleTimeout loses its delta state at the next evaluation, so dead
// series do not pile up.
func TestIdleSeriesAreForgotten(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	cum := pmetric.AggregationTemporalityCumulative
	require.NoError(t, h.metrics.ConsumeMetrics(context.Background(),
		sumMetric("http_requests_total", cum, t0.Add(time.Second), t0.Add(10*time.Second), pt{"200", "eu", 90})))
	h.evaluate(t0.Add(time.Minute))
	s, _ := h.f.runners.Get(h.id)
	h.evaluate(t0.Add(seriesIdleTimeout + 2*time.Minute))
	assert.Equal(t, 0, s.engine.ForgetSeries(t0.Add(1000*time.Hour)), "the idle series was already forgotten")
}

type pt = struct {
	code, region string
	v            float64
}

func TestCumulativeSumsCountIncreasesPerGroup(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	ctx := context.Background()
	start := t0.Add(time.Second) // after the connector started: counted in full
	cum := pmetric.AggregationTemporalityCumulative
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, sumMetric("http_requests_total", cum, start, t0.Add(10*time.Second),
		pt{"200", "eu", 90}, pt{"500", "eu", 10}, pt{"200", "us", 50})))
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, sumMetric("http_requests_total", cum, start, t0.Add(40*time.Second),
		pt{"200", "eu", 100}, pt{"500", "eu", 20}, pt{"200", "us", 50})))
	// A non-matching metric name and a delta point of another series.
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, sumMetric("other_total", cum, start, t0.Add(40*time.Second), pt{"500", "eu", 5})))
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, sumMetric("http_requests_total", pmetric.AggregationTemporalityDelta, t0.Add(40*time.Second), t0.Add(50*time.Second),
		pt{"503", "us", 5})))
	h.evaluate(t0.Add(time.Minute))

	eu := map[string]string{"slo": "api-ratio", "service": "api", "region": "eu"}
	us := map[string]string{"slo": "api-ratio", "service": "api", "region": "us"}
	v, ok := h.telemetry(contract.MetricEvents, eu)
	require.True(t, ok)
	assert.Equal(t, 120.0, v, "eu: the last cumulative values, counted from a known start")
	v, _ = h.telemetry(contract.MetricBadEvents, eu)
	assert.Equal(t, 20.0, v)
	v, _ = h.telemetry(contract.MetricEvents, us)
	assert.Equal(t, 55.0, v, "us: 50 cumulative + a delta of 5")
	v, _ = h.telemetry(contract.MetricBadEvents, us)
	assert.Equal(t, 5.0, v)
}

func histogramMetrics(ts time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	m := ms.AppendEmpty()
	m.SetName("http_server_duration_seconds")
	hist := m.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	dp := hist.DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.ExplicitBounds().FromRaw([]float64{0.1, 0.5, 1})
	dp.BucketCounts().FromRaw([]uint64{5, 3, 1, 1}) // 2 above 0.5
	dp.SetCount(10)
	// Exponential: scale 0, buckets (1,2], (2,4] etc. with offset -2: (0.25,0.5], (0.5,1]
	e := ms.AppendEmpty()
	e.SetName("http_server_duration_seconds")
	eh := e.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	edp := eh.DataPoints().AppendEmpty()
	edp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	edp.Attributes().PutStr("kind", "exp")
	edp.SetScale(0)
	edp.Positive().SetOffset(-2)
	edp.Positive().BucketCounts().FromRaw([]uint64{4, 6}) // 6 above 0.5
	edp.SetCount(10)
	// A histogram whose bounds miss the threshold: dropped and counted.
	bad := ms.AppendEmpty()
	bad.SetName("http_server_duration_seconds")
	bh := bad.SetEmptyHistogram()
	bh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	bdp := bh.DataPoints().AppendEmpty()
	bdp.Attributes().PutStr("kind", "other-bounds")
	bdp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	bdp.ExplicitBounds().FromRaw([]float64{0.25, 1})
	bdp.BucketCounts().FromRaw([]uint64{1, 1, 1})
	bdp.SetCount(3)
	return md
}

func TestHistogramsFeedLatencySLOs(t *testing.T) {
	h := newHarness(t, testConfig(t.TempDir()), t0)
	require.NoError(t, h.metrics.ConsumeMetrics(context.Background(), histogramMetrics(t0.Add(10*time.Second))))
	h.evaluate(t0.Add(time.Minute))
	sel := map[string]string{"slo": "api-latency", "service": "api"}
	v, ok := h.telemetry(contract.MetricEvents, sel)
	require.True(t, ok)
	assert.Equal(t, 20.0, v, "both histograms' counts")
	v, _ = h.telemetry(contract.MetricBadEvents, sel)
	assert.Equal(t, 8.0, v, "2 explicit + 6 exponential observations above 0.5")
	v, _ = h.telemetry(contract.MetricPoints, map[string]string{"outcome": outcomeBadBoundary})
	assert.Equal(t, 1.0, v)
}

func TestStateSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, testConfig(dir), t0)
	ok := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: t0.Add(10 * time.Second), failed: true}
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(repeat(7, ok)...)))
	h.evaluate(t0.Add(30 * time.Second))
	h.shutdown() // writes the snapshot
	assert.Zero(t, h.f.runners.Len(), "the last instance's shutdown releases the shared engine")

	h2 := newHarness(t, testConfig(dir), t0.Add(time.Minute))
	h2.evaluate(t0.Add(time.Minute))
	v, found := h2.telemetry(contract.MetricEvents, map[string]string{"slo": "checkout-spans"})
	require.True(t, found)
	assert.Equal(t, 7.0, v)
	// The restored page is still firing.
	v, _ = h2.telemetry(contract.MetricAlertActive, map[string]string{"slo": "checkout-spans", "severity": "page"})
	assert.Equal(t, 1.0, v)
}

func TestCorruptSnapshotStartsFresh(t *testing.T) {
	dir := t.TempDir()
	name := "slo-" + component.NewID(Type).String() + ".snapshot.json"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("{not json"), 0o600))
	h := newHarness(t, testConfig(dir), t0)
	h.evaluate(t0.Add(time.Minute))
	matches, _ := filepath.Glob(filepath.Join(dir, name+".corrupt-*"))
	assert.Len(t, matches, 1, "the corrupt snapshot is moved aside")
	v, found := h.telemetry(contract.MetricRestoreFailures, map[string]string{"state": "slo"})
	require.True(t, found, "the unreadable snapshot is counted")
	assert.Equal(t, 1.0, v)
	v, _ = h.telemetry(contract.MetricRestoreFailures, map[string]string{"state": "alerting"})
	assert.Equal(t, 0.0, v)
}

// sharedPath is the state file name the connector of h.id uses in dir.
func (h *harness) sharedPath(t *testing.T, dir, suffix string) string {
	t.Helper()
	s := &runner{id: h.id, cfg: &Config{State: StateConfig{Directory: dir}}}
	return s.path(suffix)
}
