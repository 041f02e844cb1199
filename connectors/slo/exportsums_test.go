package slo

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/contract"
)

func rulerConfig(dir, mode string) *Config {
	cfg := testConfig(dir)
	cfg.SLOs = []string{"testdata/ruler_slos.yaml"}
	cfg.AlertMode = mode
	cfg.Instance = "node-a"
	return cfg
}

// emitted is one pdata point of the last evaluation, flattened.
type emitted struct {
	name     string
	attrs    map[string]string
	value    float64
	ts       time.Time
	start    time.Time
	resource map[string]string
}

// lastEmitted flattens the last metrics the connector sent down the pipeline.
func lastEmitted(t *testing.T, h *harness) []emitted {
	t.Helper()
	all := h.sink.AllMetrics()
	require.NotEmpty(t, all, "nothing emitted")
	md := all[len(all)-1]
	var out []emitted
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		res := map[string]string{}
		rm.Resource().Attributes().Range(func(k string, v pcommon.Value) bool { res[k] = v.AsString(); return true })
		for j := range rm.ScopeMetrics().Len() {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				var dps pmetric.NumberDataPointSlice
				if m.Type() == pmetric.MetricTypeSum {
					dps = m.Sum().DataPoints()
				} else {
					dps = m.Gauge().DataPoints()
				}
				for l := range dps.Len() {
					dp := dps.At(l)
					a := map[string]string{}
					dp.Attributes().Range(func(k string, v pcommon.Value) bool { a[k] = v.AsString(); return true })
					out = append(out, emitted{name: m.Name(), attrs: a, value: dp.DoubleValue(), ts: dp.Timestamp().AsTime(),
						start: dp.StartTimestamp().AsTime(), resource: res})
				}
			}
		}
	}
	return out
}

// windows returns name's points of one SLO by window label.
func windows(points []emitted, name, slo string) map[string]float64 {
	out := map[string]float64{}
	for _, p := range points {
		if p.name == name && p.attrs[contract.LabelSLO] == slo {
			out[p.attrs[contract.LabelWindow]] = p.value
		}
	}
	return out
}

func names(points []emitted) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range points {
		if !seen[p.name] {
			seen[p.name] = true
			out = append(out, p.name)
		}
	}
	sort.Strings(out)
	return out
}

func payment(end time.Time, failed bool) spanSpec {
	return spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: end, failed: failed}
}

func TestRulerModeExportsWindowSumsAndNeverAlerts(t *testing.T) {
	h := newHarness(t, rulerConfig(t.TempDir(), contract.AlertsRuler), t0)
	ctx := context.Background()
	// 10 spans a minute for 6 minutes, the last two minutes all failing:
	// the page's 5m/2m pair burns at 40 and 100.
	for m := range 6 {
		for i := range 10 {
			require.NoError(t, h.traces.ConsumeTraces(ctx, traces(payment(t0.Add(time.Duration(m)*time.Minute+time.Duration(i+1)*time.Second), m >= 4))))
		}
	}
	require.NoError(t, h.metrics.ConsumeMetrics(ctx, latencyHistogram(t0.Add(time.Second), t0.Add(5*time.Minute+30*time.Second), "/a", 40, 30)))
	at := t0.Add(6 * time.Minute)
	h.evaluate(at)
	points := lastEmitted(t, h)

	assert.Equal(t, []string{contract.MetricBadEvents, contract.MetricEvents, contract.MetricObjective,
		contract.MetricWindowBadEvents, contract.MetricWindowEvents}, names(points),
		"no per-agent ratios, burn rates, budget, period bounds or alert states")
	for _, p := range points {
		assert.Equal(t, map[string]string{"service.name": "obsd", contract.ResourceInstance: "node-a"}, p.resource)
		assert.Equal(t, at, p.ts.UTC(), "stamped at the evaluation instant")
	}
	wantWindows := map[string]float64{"5m": 50, "30m": 60, "1h": 60, "2h": 60, "6h": 60, "1d": 60, "3d": 60, "period": 60, "2m": 20}
	assert.Equal(t, wantWindows, windows(points, contract.MetricWindowEvents, "checkout-spans"))
	assert.Equal(t, map[string]float64{"5m": 20, "30m": 20, "1h": 20, "2h": 20, "6h": 20, "1d": 20, "3d": 20, "period": 20, "2m": 20},
		windows(points, contract.MetricWindowBadEvents, "checkout-spans"))
	for _, p := range points {
		if p.name == contract.MetricWindowEvents && p.attrs[contract.LabelSLO] == "checkout-spans" {
			assert.Equal(t, map[string]string{"slo": "checkout-spans", "service": "checkout", "team": "payments", "window": p.attrs["window"]}, p.attrs)
		}
	}

	// A latency SLO is counted the same way, per group.
	lat := windows(points, contract.MetricWindowEvents, "api-latency")
	assert.Equal(t, 40.0, lat["5m"])
	assert.Equal(t, 10.0, windows(points, contract.MetricWindowBadEvents, "api-latency")["5m"], "40 observations, 30 within 0.5s")
	for _, p := range points {
		if p.attrs[contract.LabelSLO] == "api-latency" {
			assert.Equal(t, "/a", p.attrs["http.route"])
		}
	}

	// Time slices: the period window counts slices, so it is not a sum.
	slices := windows(points, contract.MetricWindowEvents, "checkout-slices")
	assert.NotContains(t, slices, contract.WindowPeriod)
	assert.Equal(t, 50.0, slices["5m"])

	// The burn is far above the factor, yet this agent decides nothing.
	r := h.runner()
	snap := r.board.Snapshot()
	assert.Empty(t, snap.Alerts, "no alert transition recorded")
	for _, s := range snap.SLOs {
		assert.Equal(t, contract.AlertsRuler, s.AlertsDecidedBy)
		assert.Empty(t, s.Alerts)
		assert.Equal(t, contract.StateInactive, s.State)
	}
	_, exposed := h.telemetry(contract.MetricAlertActive, map[string]string{"slo": "checkout-spans"})
	assert.False(t, exposed, "no alert state on /metrics either")
	v, ok := h.telemetry(contract.MetricWindowBadEvents, map[string]string{"slo": "checkout-spans", "window": "2m"})
	require.True(t, ok, "the window sums are on /metrics too")
	assert.Equal(t, 20.0, v)
}

func TestModesChooseWhatIsEmitted(t *testing.T) {
	for _, tc := range []struct {
		mode          string
		sums, alerts  bool
		decidedBy     string
		pageFiresHere bool
	}{
		{contract.AlertsLocal, false, true, contract.AlertsLocal, true},
		{contract.AlertsBoth, true, true, contract.AlertsBoth, true},
		{contract.AlertsRuler, true, false, contract.AlertsRuler, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := newHarness(t, rulerConfig(t.TempDir(), tc.mode), t0)
			for i := range 20 {
				require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(payment(t0.Add(time.Duration(i+1)*time.Second), true))))
			}
			h.evaluate(t0.Add(time.Minute))
			got := names(lastEmitted(t, h))
			assert.Equal(t, tc.sums, contains(got, contract.MetricWindowEvents))
			assert.Equal(t, tc.alerts, contains(got, contract.MetricAlertActive))
			assert.Equal(t, tc.alerts, contains(got, contract.MetricBurnRate))
			fired := false
			for _, a := range h.runner().board.Snapshot().Alerts {
				fired = fired || (a.SLO == "checkout-spans" && a.State == contract.StateFiring)
			}
			assert.Equal(t, tc.pageFiresHere, fired)
			for _, s := range h.runner().board.Snapshot().SLOs {
				assert.Equal(t, tc.decidedBy, s.AlertsDecidedBy)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Two agents each counting half of one service's spans export sums that
// add up exactly to what one obsd seeing every span counts, window by
// window, at the same aligned instant.
func TestTwoAgentsAddUpToOne(t *testing.T) {
	a := newHarness(t, rulerConfig(t.TempDir(), contract.AlertsRuler), t0)
	b := newHarness(t, rulerConfig(t.TempDir(), contract.AlertsRuler), t0)
	one := newHarness(t, rulerConfig(t.TempDir(), contract.AlertsBoth), t0)
	ctx := context.Background()
	n := 0
	for s := 1; s <= 600; s++ {
		end := t0.Add(time.Duration(s) * time.Second)
		for i := range 3 {
			failed := (s > 300 && s <= 420 && i == 0) || s%37 == 0 // a burst, uneven across the two
			td := traces(payment(end, failed))
			agent := a
			if n%2 == 1 || (failed && s%3 == 0) {
				agent = b
			}
			n++
			require.NoError(t, agent.traces.ConsumeTraces(ctx, td))
			require.NoError(t, one.traces.ConsumeTraces(ctx, td))
		}
	}
	at := t0.Add(10 * time.Minute)
	for _, h := range []*harness{a, b, one} {
		h.evaluate(at)
	}
	pa, pb, po := lastEmitted(t, a), lastEmitted(t, b), lastEmitted(t, one)
	for _, name := range []string{contract.MetricWindowEvents, contract.MetricWindowBadEvents} {
		wa, wb, wo := windows(pa, name, "checkout-spans"), windows(pb, name, "checkout-spans"), windows(po, name, "checkout-spans")
		require.NotEmpty(t, wo)
		for w, v := range wo {
			assert.Equal(t, v, wa[w]+wb[w], "%s window %s", name, w)
			assert.NotZero(t, wa[w], "%s window %s: agent a saw some", name, w)
			assert.NotZero(t, wb[w], "%s window %s: agent b saw some", name, w)
		}
	}
}

// The exported counters hold what a snapshot holds: events accepted after
// it are lost by kill -9, so a restart never brings the counter below a
// value already exported. Their start time is the instance's creation,
// unchanged by the restart.
func TestCountersNeverGoBackAcrossAKill(t *testing.T) {
	dir := t.TempDir()
	cfg := rulerConfig(dir, contract.AlertsRuler)
	h := newHarness(t, cfg, t0)
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, h.traces.ConsumeTraces(ctx, traces(payment(t0.Add(time.Duration(i+1)*time.Second), i < 2))))
	}
	r := h.runner()
	r.snapshot()
	for i := range 5 { // accepted but never snapshotted
		require.NoError(t, h.traces.ConsumeTraces(ctx, traces(payment(t0.Add(time.Duration(20+i)*time.Second), true))))
	}
	h.clock.set(t0.Add(30 * time.Second))
	r.evaluate(ctx, t0.Add(30*time.Second)) // no snapshot first
	counter := func(points []emitted, name string) emitted {
		for _, p := range points {
			if p.name == name && p.attrs[contract.LabelSLO] == "checkout-spans" {
				return p
			}
		}
		t.Fatalf("no %s", name)
		return emitted{}
	}
	before := lastEmitted(t, h)
	assert.Equal(t, 10.0, counter(before, contract.MetricEvents).value, "the 5 spans after the snapshot are not exported yet")
	assert.Equal(t, 2.0, counter(before, contract.MetricBadEvents).value)
	assert.Equal(t, 15.0, windows(before, contract.MetricWindowEvents, "checkout-spans")["5m"], "the window sums are live")
	start := counter(before, contract.MetricEvents).start
	assert.Equal(t, t0, start.UTC(), "counting began when the instance was created")

	// kill -9: the state on disk is the snapshot; a new runner restores it.
	h2 := newHarness(t, rulerConfig(dir, contract.AlertsRuler), t0.Add(40*time.Second))
	h2.clock.set(t0.Add(time.Minute))
	h2.runner().evaluate(ctx, t0.Add(time.Minute))
	after := lastEmitted(t, h2)
	assert.GreaterOrEqual(t, counter(after, contract.MetricEvents).value, counter(before, contract.MetricEvents).value)
	assert.GreaterOrEqual(t, counter(after, contract.MetricBadEvents).value, counter(before, contract.MetricBadEvents).value)
	assert.Equal(t, start, counter(after, contract.MetricEvents).start, "same start time: no reset for OTLP consumers")
	assert.Equal(t, 10.0, windows(after, contract.MetricWindowEvents, "checkout-spans")["5m"], "the snapshot's sums, never less than zero")
}

func TestAlignedInstants(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		t         time.Time
		every     time.Duration
		at, after time.Time
	}{
		{"mid-interval", base.Add(17 * time.Second), 30 * time.Second, base, base.Add(30 * time.Second)},
		{"on an instant", base.Add(30 * time.Second), 30 * time.Second, base.Add(30 * time.Second), base.Add(time.Minute)},
		{"an interval that does not divide a minute", base.Add(4 * time.Second), 7 * time.Second,
			time.Unix(0, base.Add(4*time.Second).UnixNano()/int64(7*time.Second)*int64(7*time.Second)).UTC(),
			time.Unix(0, (base.Add(4*time.Second).UnixNano()/int64(7*time.Second)+1)*int64(7*time.Second)).UTC()},
		{"another zone, the same instant", base.Add(17 * time.Second).In(time.FixedZone("X", 3600+1800)), 30 * time.Second, base, base.Add(30 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.at, alignedAt(tc.t, tc.every))
			assert.Equal(t, tc.after, alignedAfter(tc.t, tc.every))
		})
	}
}

func TestAlertModeValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"an unknown mode names the three", func(c *Config) { c.AlertMode = "gateway" }, `'alert_mode' must be "local", "ruler" or "both", not "gateway"`},
		{"the ruler mode needs a state directory", func(c *Config) { c.AlertMode = contract.AlertsRuler; c.State.Directory = "" },
			`'state.directory' is required when 'alert_mode' is "ruler"`},
		{"so does both", func(c *Config) { c.AlertMode = contract.AlertsBoth; c.State.Directory = "" }, `'alert_mode' is "both"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			tc.cfg(cfg)
			require.ErrorContains(t, confmap.Validate(cfg), tc.want)
		})
	}
	// The ruler mode keeps an alerting section valid but unused, so one
	// setting switches a shipped config (config.example.yaml) over.
	cfg := testConfig(t.TempDir())
	cfg.AlertMode = contract.AlertsRuler
	al := alerting.DefaultConfig()
	al.Route = alerting.RouteConfig{Receiver: "oncall"}
	al.Destinations = map[string]alerting.DestinationConfig{"oncall": {Webhook: &alerting.WebhookConfig{URL: "http://127.0.0.1:9/hook"}}}
	cfg.Alerting = &al
	require.NoError(t, confmap.Validate(cfg))
	h := newHarness(t, cfg, t0)
	assert.Nil(t, h.runner().alerts, "no alerting manager in ruler mode")
}

// latencyHistogram is one delta histogram point of route with count
// observations, good of them within 0.5s.
func latencyHistogram(start, ts time.Time, route string, count, good uint64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http_server_duration_seconds")
	hist := m.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	dp := hist.DataPoints().AppendEmpty()
	dp.Attributes().PutStr("http.route", route)
	dp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	dp.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	dp.ExplicitBounds().FromRaw([]float64{0.5})
	dp.BucketCounts().FromRaw([]uint64{good, count - good})
	dp.SetCount(count)
	return md
}
