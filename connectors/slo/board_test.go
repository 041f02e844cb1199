package slo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
	"github.com/obsd-dev/obsd/slo/status"
)

// fakeRegistry is a statuspage stand-in that records registrations.
type fakeRegistry struct {
	mu      sync.Mutex
	sources map[string]status.SLOSource
}

var _ status.Registry = (*fakeRegistry)(nil)

func (r *fakeRegistry) Start(context.Context, component.Host) error { return nil }
func (r *fakeRegistry) Shutdown(context.Context) error              { return nil }

func (r *fakeRegistry) RegisterSLOSource(id string, src status.SLOSource) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sources[id] = src
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.sources, id)
	}
}

func (r *fakeRegistry) source(id string) status.SLOSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sources[id]
}

type extHost map[component.ID]component.Component

func (h extHost) GetExtensions() map[component.ID]component.Component { return h }

func TestTheConnectorRegistersWithTheStatusPageAndReportsItsState(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	cfg := testConfig(t.TempDir())
	al := alerting.DefaultConfig()
	al.Route = alerting.RouteConfig{Receiver: "hook"}
	al.Destinations = map[string]alerting.DestinationConfig{"hook": {Webhook: &alerting.WebhookConfig{URL: hook.URL}}}
	cfg.Alerting = &al
	require.NoError(t, cfg.Validate())

	reg := &fakeRegistry{sources: map[string]status.SLOSource{}}
	host := extHost{component.MustNewID("statuspage"): reg, component.MustNewID("health_check"): nil}
	clk := &clock{now: t0}
	f := newFactory(clk.Now)
	set := connectortest.NewNopSettings(Type)
	set.ID = component.NewID(Type)
	tr, err := f.build().CreateTracesToMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	require.NoError(t, tr.Start(context.Background(), host))

	src := reg.source("slo")
	require.NotNil(t, src, "the connector registered under its component id")
	var placeholder *status.SLO
	for _, s := range src.Snapshot().SLOs {
		if s.Name == "checkout-spans" {
			placeholder = &s
		}
	}
	require.NotNil(t, placeholder, "an SLO with no event yet is listed")
	assert.True(t, placeholder.NoData)
	assert.Equal(t, 1.0, placeholder.BudgetRemaining)
	assert.Equal(t, contract.StateInactive, placeholder.State)

	failed := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, failed: true, end: t0.Add(10 * time.Second)}
	require.NoError(t, tr.ConsumeTraces(context.Background(), traces(repeat(10, failed)...)))
	s, _ := f.runners.Get(set.ID)
	s.evaluate(context.Background(), t0.Add(30*time.Second))

	snap := src.Snapshot()
	var got *status.SLO
	for i := range snap.SLOs {
		if snap.SLOs[i].Name == "checkout-spans" {
			got = &snap.SLOs[i]
		}
	}
	require.NotNil(t, got, "the evaluated instance is in the snapshot")
	assert.Equal(t, contract.StateFiring, got.State)
	assert.Equal(t, 0.99, got.Objective)
	assert.Equal(t, time.Hour, got.Period.Std())
	assert.Less(t, got.BudgetRemaining, 0.0, "every event failed: the budget is overspent")
	assert.Equal(t, "/d/obsd-slo-checkout-spans/slo-checkout-spans?var-slo=checkout-spans", got.DashboardPath)
	assert.Equal(t, []status.Threshold{{Severity: "page", Long: status.Duration(5 * time.Minute), Short: status.Duration(time.Minute), BurnRate: 2}}, got.Thresholds)
	require.Len(t, got.History, 1)
	assert.Equal(t, 0.0, got.History[0].SLI)
	require.Len(t, snap.Alerts, 1)
	assert.Equal(t, "firing", snap.Alerts[0].State)
	assert.Equal(t, []string{"hook"}, snap.Alerts[0].Receivers, "the firing page was routed to the webhook")
	require.Len(t, snap.Destinations, 1)
	assert.Equal(t, "hook", snap.Destinations[0].Name)

	require.NoError(t, tr.Shutdown(context.Background()))
	assert.Nil(t, reg.source("slo"), "the last instance's shutdown unregisters")
}

func TestTheHistoryKeepsOnePointPerStepAndDropsTheOldest(t *testing.T) {
	h := status.NewHistory(3, time.Minute)
	for i, d := range []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute, 3 * time.Minute} {
		h.Add(status.Point{At: t0.Add(d), SLI: float64(i)})
	}
	pts := h.Points()
	require.Len(t, pts, 3)
	assert.Equal(t, []float64{2, 3, 4}, []float64{pts[0].SLI, pts[1].SLI, pts[2].SLI})
	h.Add(status.Point{At: t0.Add(3*time.Minute + 30*time.Second), SLI: 5})
	pts = h.Points()
	require.Len(t, pts, 4, "the latest point ends the history even between steps")
	assert.Equal(t, 5.0, pts[3].SLI)
}

func TestGroupStringSortsKeys(t *testing.T) {
	assert.Equal(t, "a=1, b=2", groupString(map[string]string{"b": "2", "a": "1"}))
	assert.Equal(t, "", groupString(nil))
}

// BenchmarkBoardObserve records one evaluated instance (once per instance
// per evaluation interval, not per event).
func BenchmarkBoardObserve(b *testing.B) {
	cfg := testConfig(b.TempDir())
	h := newHarness(b, cfg, t0)
	s, _ := h.f.runners.Get(h.id)
	failed := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, failed: true, end: t0.Add(10 * time.Second)}
	if err := h.traces.ConsumeTraces(context.Background(), traces(repeat(10, failed)...)); err != nil {
		b.Fatal(err)
	}
	var st sloengine.Status
	s.engine.Evaluate(context.Background(), t0.Add(time.Minute), func(x *sloengine.Status) {
		if x.SLO == "checkout-spans" {
			st = *x
		}
	})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st.At = t0.Add(time.Duration(i) * time.Minute)
		s.board.observe(&st)
	}
}

// BenchmarkBoardSnapshot copies every instance with its history.
func BenchmarkBoardSnapshot(b *testing.B) {
	cfg := testConfig(b.TempDir())
	h := newHarness(b, cfg, t0)
	s, _ := h.f.runners.Get(h.id)
	ok := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: t0.Add(10 * time.Second)}
	if err := h.traces.ConsumeTraces(context.Background(), traces(repeat(10, ok)...)); err != nil {
		b.Fatal(err)
	}
	for i := range historyPoints {
		s.evaluate(context.Background(), t0.Add(time.Duration(i)*10*time.Second))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.board.Snapshot()
	}
}

func TestOnlyTheFirstInstancesKeepAHistory(t *testing.T) {
	sp := &spec.SLO{Name: "api", Service: "api", Objective: 0.99, Period: time.Hour}
	b := newBoard(component.MustNewID("slo"), []*spec.SLO{sp}, nil)
	for i := range maxHistories + 5 {
		st := sloengine.Status{SLO: "api", Service: "api", Objective: 0.99, At: t0, Group: map[string]string{"pod": fmt.Sprint(i)}}
		b.observe(&st)
	}
	with := 0
	snap := b.Snapshot()
	for _, s := range snap.SLOs {
		if len(s.History) > 0 {
			with++
		}
	}
	assert.Len(t, snap.SLOs, maxHistories+5, "every instance is listed")
	assert.Equal(t, maxHistories, with, "the history memory is bounded")
}

func TestAnAlertEventNamesTheInstanceOfEveryGroupedSLIKind(t *testing.T) {
	specs := []*spec.SLO{
		{Name: "metric", SLI: spec.SLI{Metric: &spec.MetricRatio{GroupBy: []string{"region"}}}},
		{Name: "latency", SLI: spec.SLI{Latency: &spec.MetricLatency{GroupBy: []string{"region"}}}},
		{Name: "logs", SLI: spec.SLI{Logs: &spec.LogSLI{GroupBy: []spec.LogField{{Name: "region", Key: "region"}}}}},
	}
	b := newBoard(component.MustNewID("slo"), specs, nil)
	var ts []contract.Transition
	for _, sp := range specs {
		ts = append(ts, contract.Transition{SLO: sp.Name, Severity: "page", State: "firing", At: t0,
			Labels: map[string]string{"region": "eu", "team": "pay"}})
	}
	b.record(ts)
	snap := b.Snapshot()
	require.Len(t, snap.Alerts, len(specs))
	for _, ev := range snap.Alerts {
		assert.Equal(t, "region=eu", ev.Instance, "the event of %s names its group, not the SLO's other labels", ev.SLO)
	}
}
