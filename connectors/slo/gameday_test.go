package slo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo/contract"
)

// drill marks every resource of td as the game-day drill id.
func drill(td ptrace.Traces, id string) ptrace.Traces {
	for i := range td.ResourceSpans().Len() {
		td.ResourceSpans().At(i).Resource().Attributes().PutStr(contract.AttrGamedayDrill, id)
	}
	return td
}

// hook is a webhook destination recording what it receives.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	alerts []alerting.WebhookAlert
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg alerting.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.alerts = append(h.alerts, msg.Alerts...)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) received() []alerting.WebhookAlert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]alerting.WebhookAlert(nil), h.alerts...)
}

// gamedayConfig is discoverConfig alerting to the hook.
func gamedayConfig(t *testing.T, dir string, hk *hook) *Config {
	cfg := discoverConfig(dir, 100)
	al := alerting.DefaultConfig()
	al.Route = alerting.RouteConfig{Receiver: "hook"}
	al.Destinations = map[string]alerting.DestinationConfig{"hook": {Webhook: &alerting.WebhookConfig{URL: hk.URL}}}
	cfg.Alerting = &al
	require.NoError(t, cfg.Validate())
	return cfg
}

func TestGamedaySpansPageWithoutTouchingTheRealSLOs(t *testing.T) {
	hk := newHook(t)
	dir := t.TempDir()
	h := newHarness(t, gamedayConfig(t, dir, hk), t0)
	end := t0.Add(10 * time.Second)
	pay := func(n int, failed bool) []spanSpec {
		s := serverSpans("checkout", n, failed, false, end)
		for i := range s {
			s[i].route = "/pay"
		}
		return s
	}
	ctx := context.Background()
	require.NoError(t, h.traces.ConsumeTraces(ctx, traces(pay(20, false)...)))             // real traffic
	require.NoError(t, h.traces.ConsumeTraces(ctx, drill(traces(pay(20, true)...), "d1"))) // an explicit SLO's drill
	require.NoError(t, h.traces.ConsumeTraces(ctx, drill(traces(serverSpans("gd-demo", 20, true, false, end)...), "d1")))
	h.evaluate(t0.Add(30 * time.Second))

	real := map[string]string{contract.LabelSLO: "checkout-spans"}
	v, _ := h.telemetry(contract.MetricEvents, real)
	assert.Equal(t, 20.0, v, "the real SLO counts only the real spans")
	v, _ = h.telemetry(contract.MetricBudgetRemaining, real)
	assert.Equal(t, 1.0, v, "the drill spends no real budget")
	_, found := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "gd-demo"})
	assert.False(t, found, "a drill's service gets no real discovered SLO")
	_, found = h.telemetry(contract.MetricEvents, map[string]string{contract.LabelGameday: "true"})
	assert.False(t, found, "game-day instances emit no obsd_slo_* series")
	v, _ = h.telemetry(contract.MetricPoints, map[string]string{contract.LabelOutcome: outcomeGameday})
	assert.Equal(t, 60.0, v, "20 spans of the explicit SLO, 20 in each discovered SLO of gd-demo")

	board := h.boardSLOs()
	gd := board["checkout-spans{gameday=true, gameday_drill=d1}"]
	assert.Equal(t, contract.StateFiring, gd.State, "the game-day instance pages")
	assert.Equal(t, contract.StateInactive, board["checkout-spans"].State)
	assert.Equal(t, contract.StateFiring, board["availability{gameday=true, gameday_drill=d1, service=gd-demo}"].State)

	require.Eventually(t, func() bool { return len(hk.received()) >= 2 }, 10*time.Second, 10*time.Millisecond, "the drill's pages never reached the webhook")
	for _, a := range hk.received() {
		assert.Equal(t, "true", a.Labels[contract.LabelGameday], "every drill alert is marked: %v", a.Labels)
		assert.Equal(t, "d1", a.Labels[contract.LabelGamedayDrill])
		assert.Equal(t, "page", a.Labels["severity"], "a drill rehearses the page, not the ticket")
	}
	s, _ := h.f.runners.Get(h.id)
	// GamedayPage predicts the transition's labels exactly (obsd gameday
	// routes them before it sends anything).
	for _, sp := range s.engine.SLOs() {
		if sp.Name != "availability" {
			continue
		}
		_, want := GamedayPage(sp, "d1", "gd-demo")
		var found bool
		for _, ev := range s.board.Snapshot().Alerts {
			if ev.SLO == "availability" && ev.Service == "gd-demo" {
				found = true
				assert.Equal(t, want, ev.Labels)
			}
		}
		assert.True(t, found)
	}
	var drillEvents int
	for _, ev := range s.board.Snapshot().Alerts {
		if ev.Labels[contract.LabelGameday] == "true" {
			drillEvents++
			assert.Contains(t, ev.Instance, "gameday_drill=d1")
			assert.Equal(t, []string{"hook"}, ev.Receivers)
		}
	}
	assert.Equal(t, 2, drillEvents)

	h.shutdown()
	data, err := os.ReadFile(h.sharedPath(t, dir, "alerting.json"))
	require.NoError(t, err)
	var st alerting.State
	require.NoError(t, json.Unmarshal(data, &st))
	assert.Empty(t, st.Alerts, "drill alerts are not saved: after a restart nothing would resolve them")
}

func TestAGamedayResolvesAndTheNextDrillStartsFresh(t *testing.T) {
	hk := newHook(t)
	h := newHarness(t, gamedayConfig(t, t.TempDir(), hk), t0)
	ctx := context.Background()
	end := t0.Add(10 * time.Second)
	require.NoError(t, h.traces.ConsumeTraces(ctx, drill(traces(serverSpans("gd", 20, true, false, end)...), "d1")))
	h.evaluate(t0.Add(30 * time.Second))
	key := "availability{gameday=true, gameday_drill=d1, service=gd}"
	require.Equal(t, contract.StateFiring, h.boardSLOs()[key].State)

	// Recovery: enough good spans bring every page pair under 0.9 × its
	// factor (6× over 30m is the lowest: 20 bad in 20/(0.9·6·0.001) events).
	require.NoError(t, h.traces.ConsumeTraces(ctx, drill(traces(serverSpans("gd", 3800, false, false, end)...), "d1")))
	h.evaluate(t0.Add(60 * time.Second))
	assert.Equal(t, contract.StateResolved, h.boardSLOs()[key].State)
	h.evaluate(t0.Add(90 * time.Second))

	// The engine has settled: the next drill starts a fresh one, and the
	// page forgets the previous drill's instances.
	require.NoError(t, h.traces.ConsumeTraces(ctx, drill(traces(serverSpans("gd", 20, true, false, t0.Add(100*time.Second))...), "d2")))
	h.evaluate(t0.Add(2 * time.Minute))
	board := h.boardSLOs()
	assert.NotContains(t, board, key)
	assert.Equal(t, contract.StateFiring, board["availability{gameday=true, gameday_drill=d2, service=gd}"].State)
	assert.Equal(t, 20.0, board["availability{gameday=true, gameday_drill=d2, service=gd}"].Events, "d2 counts alone")
}

func TestGamedayDisabledDropsDrillSpans(t *testing.T) {
	cfg := discoverConfig(t.TempDir(), 100)
	cfg.Gameday.Enabled = false
	h := newHarness(t, cfg, t0)
	end := t0.Add(10 * time.Second)
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), drill(traces(serverSpans("demo", 20, true, false, end)...), "d1")))
	h.evaluate(t0.Add(30 * time.Second))
	v, _ := h.telemetry(contract.MetricPoints, map[string]string{contract.LabelOutcome: outcomeGamedayDropped})
	assert.Equal(t, 20.0, v, "counted as dropped")
	_, found := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "demo"})
	assert.False(t, found, "never counted in a real SLO")
	for key, x := range h.boardSLOs() {
		assert.Empty(t, x.Group, "%s: no instance at all, game-day or real", key)
	}
}

// TestARefusedDrillRequestIsNotCounted: drill spans count in the game-day
// instances only once the pipeline accepted their request, as real spans
// do: a request refused downstream and retried counts once.
func TestARefusedDrillRequestIsNotCounted(t *testing.T) {
	h := newHarness(t, gamedayConfig(t, t.TempDir(), newHook(t)), t0)
	td := drill(traces(serverSpans("gd", 20, true, false, t0.Add(10*time.Second))...), "d1")
	refused := errors.New("queue full")
	require.ErrorIs(t, h.runner().countTraces(context.Background(), td, consumertest.NewErr(refused)), refused)
	v, _ := h.telemetry(contract.MetricPoints, map[string]string{contract.LabelOutcome: outcomeGameday})
	assert.Zero(t, v, "a refused drill request counts nothing")
	require.NoError(t, h.runner().countTraces(context.Background(), td, consumertest.NewNop())) // the client's retry
	v, _ = h.telemetry(contract.MetricPoints, map[string]string{contract.LabelOutcome: outcomeGameday})
	assert.Equal(t, 40.0, v, "the accepted retry counts its 20 spans once in each discovered SLO of gd")
}
