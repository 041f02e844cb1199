package slo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

// discoverConfig is testConfig (checkout and api have SLOs of their own)
// with discovery on, capped at limit services.
func discoverConfig(dir string, limit int) *Config {
	cfg := testConfig(dir)
	d := defaultDiscoverConfig()
	d.ServiceLimit = limit
	cfg.Discover = &d
	return cfg
}

// serverSpans are n server spans of svc ending at end: failed ones have
// status Error and HTTP 500, slow ones last 2s (fast ones 10ms).
func serverSpans(svc string, n int, failed, slow bool, end time.Time) []spanSpec {
	s := spanSpec{svc: svc, name: "GET /orders", route: "/orders", kind: ptrace.SpanKindServer, dur: 10 * time.Millisecond, end: end, failed: failed}
	if failed {
		s.status = 500
	}
	if slow {
		s.dur = 2 * time.Second
	}
	return repeat(n, s)
}

// boardSLOs is what the status page lists of the connector, by key.
func (h *harness) boardSLOs() map[string]status.SLO {
	s, _ := h.f.runners.Get(h.id)
	require.NotNil(h.t, s)
	out := map[string]status.SLO{}
	for _, x := range s.board.Snapshot().SLOs {
		out[x.Key()] = x
	}
	return out
}

func TestDiscoveredSLOsFromTheFirstSpans(t *testing.T) {
	h := newHarness(t, discoverConfig(t.TempDir(), 100), t0)
	end := t0.Add(10 * time.Second)
	var in []spanSpec
	in = append(in, serverSpans("demo", 20, true, false, end)...) // an availability burn
	in = append(in, serverSpans("shop", 30, false, true, end)...) // a latency burn
	checkout := serverSpans("checkout", 5, true, false, end)      // has its own SLO
	for i := range checkout {
		checkout[i].route = "/pay"
	}
	in = append(in, checkout...)
	client := serverSpans("cart", 5, true, false, end)
	for i := range client {
		client[i].kind = ptrace.SpanKindClient
	}
	in = append(in, client...) // sends no server span: no SLO
	require.Empty(t, h.boardSLOs()["availability"].Name, "a discovered SLO is not listed before its first service")
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(in...)))
	h.evaluate(t0.Add(30 * time.Second))

	tests := []struct {
		name                 string
		slo, service         string
		wantEvents, wantBad  float64
		wantBurn5m, wantPage float64
	}{
		{"failing spans burn the availability budget", "availability", "demo", 20, 20, 1000, 1},
		{"the same spans are fast: no latency burn", "latency", "demo", 20, 0, 0, 0},
		{"slow spans burn the latency budget", "latency", "shop", 30, 30, 100, 1},
		{"slow but successful spans spend no availability", "availability", "shop", 30, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := map[string]string{contract.LabelSLO: tt.slo, contract.LabelService: tt.service}
			v, found := h.telemetry(contract.MetricEvents, sel)
			require.True(t, found, "no %s instance for %s", tt.slo, tt.service)
			assert.Equal(t, tt.wantEvents, v)
			v, _ = h.telemetry(contract.MetricBadEvents, sel)
			assert.Equal(t, tt.wantBad, v)
			burn := map[string]string{contract.LabelSLO: tt.slo, contract.LabelService: tt.service, contract.LabelWindow: "5m"}
			v, _ = h.telemetry(contract.MetricBurnRate, burn)
			assert.InDelta(t, tt.wantBurn5m, v, 1e-6)
			page := map[string]string{contract.LabelSLO: tt.slo, contract.LabelService: tt.service, contract.LabelSeverity: "page"}
			v, _ = h.telemetry(contract.MetricAlertActive, page)
			assert.Equal(t, tt.wantPage, v)
		})
	}
	for _, svc := range []string{"checkout", "cart"} {
		_, found := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: svc})
		assert.False(t, found, "%s gets no discovered SLO", svc)
	}
	v, _ := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "checkout-spans"})
	assert.Equal(t, 5.0, v, "the explicit SLO of checkout counts its spans")

	page := h.boardSLOs()["availability{service=demo}"]
	assert.Equal(t, "demo", page.Service, "the status page names the discovered service")
	assert.Equal(t, contract.StateFiring, page.State)
	assert.Equal(t, map[string]string{contract.LabelService: "demo"}, page.Group)
	assert.Contains(t, page.Description, "Discovered")
	assert.NotEmpty(t, page.Thresholds, "the page shows the burn-rate thresholds")
}

func TestDiscoveredServicesAreCappedWithTheOverflowCounted(t *testing.T) {
	h := newHarness(t, discoverConfig(t.TempDir(), 2), t0)
	end := t0.Add(10 * time.Second)
	var in []spanSpec
	for _, svc := range []string{"a", "b", "c", "d"} {
		in = append(in, serverSpans(svc, 3, false, false, end)...)
	}
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(in...)))
	h.evaluate(t0.Add(30 * time.Second))
	for _, svc := range []string{"a", "b"} {
		v, _ := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: svc})
		assert.Equal(t, 3.0, v, svc)
	}
	v, _ := h.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "__overflow__"})
	assert.Equal(t, 6.0, v, "c and d share the overflow instance")
	v, found := h.telemetry(contract.MetricGroupOverflow, map[string]string{contract.LabelSLO: "availability"})
	require.True(t, found)
	assert.Equal(t, 6.0, v, "one per span counted in the overflow instance")
	v, _ = h.telemetry(contract.MetricGroupOverflow, map[string]string{contract.LabelSLO: "latency"})
	assert.Equal(t, 6.0, v)
}

func TestDiscoveredSLOsSurviveARestartUnlessTheServiceGetsItsOwn(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, discoverConfig(dir, 100), t0)
	end := t0.Add(10 * time.Second)
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(append(
		serverSpans("demo", 12, true, false, end), serverSpans("cart", 4, false, false, end)...)...)))
	h.evaluate(t0.Add(30 * time.Second))
	h.shutdown() // writes the snapshot

	// The restart adds an SLO file for cart: its discovered instances go.
	cfg := discoverConfig(dir, 100)
	cfg.SLOs = append(cfg.SLOs, "testdata/cart_slos.yaml")
	h2 := newHarness(t, cfg, t0.Add(time.Minute))
	h2.evaluate(t0.Add(time.Minute))
	v, found := h2.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "demo"})
	require.True(t, found)
	assert.Equal(t, 12.0, v, "demo's counts are restored")
	v, _ = h2.telemetry(contract.MetricAlertActive, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "demo", contract.LabelSeverity: "page"})
	assert.Equal(t, 1.0, v, "and its page still fires")
	_, found = h2.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "availability", contract.LabelService: "cart"})
	assert.False(t, found, "cart has an SLO of its own now")
	require.NoError(t, h2.traces.ConsumeTraces(context.Background(), traces(serverSpans("cart", 2, false, false, t0.Add(time.Minute))...)))
	h2.evaluate(t0.Add(2 * time.Minute))
	v, _ = h2.telemetry(contract.MetricEvents, map[string]string{contract.LabelSLO: "cart-availability"})
	assert.Equal(t, 2.0, v, "cart's spans count in its own SLO")
}
