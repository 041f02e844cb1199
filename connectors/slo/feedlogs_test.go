package slo

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	sloengine "github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/contract"
)

// logSpec is one log record of a service.
type logSpec struct {
	svc      string
	attrs    map[string]any
	body     any // string, map[string]any or nil
	sev      plog.SeverityNumber
	sevText  string
	ts, obs  time.Time
	resAttrs map[string]any
}

func logsOf(specs ...logSpec) plog.Logs {
	ld := plog.NewLogs()
	for _, s := range specs {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", s.svc)
		if s.resAttrs != nil {
			_ = rl.Resource().Attributes().FromRaw(merge(s.resAttrs, map[string]any{"service.name": s.svc}))
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		if s.attrs != nil {
			_ = lr.Attributes().FromRaw(s.attrs)
		}
		switch b := s.body.(type) {
		case string:
			lr.Body().SetStr(b)
		case map[string]any:
			_ = lr.Body().SetEmptyMap().FromRaw(b)
		}
		lr.SetSeverityNumber(s.sev)
		lr.SetSeverityText(s.sevText)
		if !s.ts.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(s.ts))
		}
		if !s.obs.IsZero() {
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(s.obs))
		}
	}
	return ld
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func logsConfig(dir string) *Config {
	cfg := testConfig(dir)
	cfg.SLOs = []string{"testdata/logs_slos.yaml"}
	return cfg
}

// counts returns events and bad events of an SLO instance.
func (h *harness) counts(t *testing.T, sel map[string]string) (events, bad float64) {
	t.Helper()
	events, ok := h.telemetry(contract.MetricEvents, sel)
	require.True(t, ok, "%s%v not exposed", contract.MetricEvents, sel)
	bad, _ = h.telemetry(contract.MetricBadEvents, sel)
	return events, bad
}

func TestLogSLIs(t *testing.T) {
	at := t0.Add(10 * time.Second)
	tests := []struct {
		name            string
		records         []logSpec
		slo             string
		wantEvents      float64
		wantBad         float64
		wantMalformed   float64
		wantNotExported bool
	}{
		{
			name: "access logs count by route attribute; a 5xx status attribute (int or string) is bad",
			slo:  "checkout-access",
			records: []logSpec{
				{svc: "checkout", ts: at, attrs: map[string]any{"http.route": "/api/pay", "http.status_code": 200}},
				{svc: "checkout", ts: at, attrs: map[string]any{"http.route": "/api/pay", "http.status_code": 503}},
				{svc: "checkout", ts: at, attrs: map[string]any{"http.route": "/api/cart", "http.status_code": "500"}},
				{svc: "checkout", ts: at, attrs: map[string]any{"http.route": "/health", "http.status_code": 500}},
				{svc: "checkout", ts: at, attrs: map[string]any{"http.status_code": 500}},
			},
			wantEvents: 3, wantBad: 2,
		},
		{
			name: "a route carried as a resource attribute matches an unprefixed name",
			slo:  "checkout-access",
			records: []logSpec{
				{svc: "checkout", ts: at, resAttrs: map[string]any{"http.route": "/api/pay"}, attrs: map[string]any{"http.status_code": 502}},
			},
			wantEvents: 1, wantBad: 1,
		},
		{
			name: "logs of another service are ignored",
			slo:  "checkout-access",
			records: []logSpec{
				{svc: "cart", ts: at, attrs: map[string]any{"http.route": "/api/pay", "http.status_code": 500}},
			},
			wantNotExported: true,
		},
		{
			name: "JSON bodies: status and nested method fields; every record of the service is an event",
			slo:  "web-json",
			records: []logSpec{
				{svc: "web", ts: at, body: `{"path":"/a","status":200,"req":{"method":"GET"}}`},
				{svc: "web", ts: at, body: `{"path":"/a","status":500,"req":{"method":"GET"}}`},
				{svc: "web", ts: at, body: `{"status":"504","req":{"method":"POST"}}`},
				{svc: "web", ts: at, body: `{"status":503,"req":{"method":"HEAD"}}`},
				{svc: "web", ts: at, body: `{"path":"/escaped\u002fpath","status":501}`},
			},
			wantEvents: 5, wantBad: 3,
		},
		{
			name: "map bodies are read like JSON bodies",
			slo:  "web-json",
			records: []logSpec{
				{svc: "web", ts: at, body: map[string]any{"status": 500, "req": map[string]any{"method": "GET"}}},
				{svc: "web", ts: at, body: map[string]any{"status": 200}},
			},
			wantEvents: 2, wantBad: 1,
		},
		{
			name: "malformed JSON bodies are counted as an outcome, not as events",
			slo:  "web-json",
			records: []logSpec{
				{svc: "web", ts: at, body: `{"status":500,`},
				{svc: "web", ts: at, body: `not json at all`},
				{svc: "web", ts: at, body: `{"status":500}`},
			},
			// Both SLIs of the web service read the body: 2 records × 2 SLIs.
			wantEvents: 1, wantBad: 1, wantMalformed: 4,
		},
		{
			name: "severity at or above ERROR is bad, by number or by text when the number is unset",
			slo:  "worker-errors",
			records: []logSpec{
				{svc: "worker", ts: at, sev: plog.SeverityNumberInfo},
				{svc: "worker", ts: at, sev: plog.SeverityNumberWarn4},
				{svc: "worker", ts: at, sev: plog.SeverityNumberError},
				{svc: "worker", ts: at, sev: plog.SeverityNumberFatal2},
				{svc: "worker", ts: at, sevText: "error"},
				{svc: "worker", ts: at, sevText: "Warning"},
			},
			wantEvents: 6, wantBad: 3,
		},
		{
			name: "a record without timestamp uses its observed timestamp; far future records are dropped",
			slo:  "worker-errors",
			records: []logSpec{
				{svc: "worker", obs: at, sev: plog.SeverityNumberError},
				{svc: "worker", ts: t0.Add(time.Hour), sev: plog.SeverityNumberError},
			},
			wantEvents: 1, wantBad: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, logsConfig(t.TempDir()), t0)
			require.NoError(t, h.logs.ConsumeLogs(context.Background(), logsOf(tt.records...)))
			h.evaluate(t0.Add(30 * time.Second))
			sel := map[string]string{"slo": tt.slo}
			if tt.wantNotExported {
				_, found := h.telemetry(contract.MetricEvents, sel)
				assert.False(t, found, "no instance was created")
				return
			}
			events, bad := h.counts(t, sel)
			assert.Equal(t, tt.wantEvents, events, "events")
			assert.Equal(t, tt.wantBad, bad, "bad events")
			malformed, _ := h.telemetry(contract.MetricPoints, map[string]string{"outcome": outcomeMalformed})
			assert.Equal(t, tt.wantMalformed, malformed, "malformed bodies")
		})
	}
}

func TestLogSLIsOfOneServiceReadTheSameBodyField(t *testing.T) {
	at := t0.Add(10 * time.Second)
	h := newHarness(t, logsConfig(t.TempDir()), t0)
	records := []logSpec{
		{svc: "web", ts: at, body: `{"path":"/a","status":200,"req":{"method":"GET"}}`},
		{svc: "web", ts: at, body: `{"path":"/a","status":500,"req":{"method":"GET"}}`},
		// An escaped value is decoded into scratch space: each SLI must
		// still see "/b" and "503" after the other one read the record.
		{svc: "web", ts: at, body: `{"path":"\u002fb","status":"50\u0033","req":{"method":"POST"}}`},
		{svc: "web", ts: at, body: `{"status":503,"req":{"method":"HEAD"}}`},
		{svc: "web", ts: at, body: map[string]any{"path": "/c", "status": 502}},
	}
	require.NoError(t, h.logs.ConsumeLogs(context.Background(), logsOf(records...)))
	h.evaluate(t0.Add(30 * time.Second))

	events, bad := h.counts(t, map[string]string{"slo": "web-json"})
	assert.Equal(t, 5.0, events, "web-json: every record of the service")
	assert.Equal(t, 3.0, bad, "web-json: 5xx except HEAD")
	events, bad = h.counts(t, map[string]string{"slo": "web-json-paths"})
	assert.Equal(t, 4.0, events, "web-json-paths: records with a path")
	assert.Equal(t, 3.0, bad, "web-json-paths: 5xx with a path")
}

// edgeLogs returns one record per route /r<from>..../r<to-1> of the edge service.
func edgeLogs(from, to int, at time.Time) plog.Logs {
	var specs []logSpec
	for r := from; r < to; r++ {
		specs = append(specs, logSpec{svc: "edge", ts: at, attrs: map[string]any{"http.route": "/r" + strconv.Itoa(r), "http.status_code": 500}})
	}
	return logsOf(specs...)
}

func TestGroupByCapOverflowsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	at := t0.Add(10 * time.Second)
	h := newHarness(t, logsConfig(dir), t0)
	ctx := context.Background()
	require.NoError(t, h.logs.ConsumeLogs(ctx, edgeLogs(0, 1000, at)))
	require.NoError(t, h.logs.ConsumeLogs(ctx, edgeLogs(1000, 1010, at)))
	require.NoError(t, h.logs.ConsumeLogs(ctx, edgeLogs(5, 6, at)), "an existing route keeps its instance")
	h.evaluate(t0.Add(30 * time.Second))

	over := map[string]string{"slo": "edge-routes", "http.route": sloengine.OverflowValue}
	events, bad := h.counts(t, over)
	assert.Equal(t, 10.0, events, "the 10 routes beyond the cap share the overflow instance")
	assert.Equal(t, 10.0, bad)
	n, ok := h.telemetry(contract.MetricGroupOverflow, map[string]string{"slo": "edge-routes"})
	require.True(t, ok)
	assert.Equal(t, 10.0, n, "one per record routed to the overflow instance")
	r5, _ := h.counts(t, map[string]string{"slo": "edge-routes", "http.route": "/r5"})
	assert.Equal(t, 2.0, r5)
	assert.Equal(t, 1001, h.runner().engine.Len(), "1000 instances and the overflow one")

	// Restart on the same state directory: instances and overflow are kept.
	h.shutdown()
	h2 := newHarness(t, logsConfig(dir), t0.Add(time.Minute))
	require.NoError(t, h2.logs.ConsumeLogs(ctx, edgeLogs(2000, 2001, t0.Add(time.Minute))))
	h2.evaluate(t0.Add(time.Minute + 10*time.Second))
	events, _ = h2.counts(t, over)
	assert.Equal(t, 11.0, events, "a new route after the restart still overflows")
	r5, _ = h2.counts(t, map[string]string{"slo": "edge-routes", "http.route": "/r5"})
	assert.Equal(t, 2.0, r5)
	assert.Equal(t, 1001, h2.runner().engine.Len())
}

func (h *harness) runner() *runner {
	s, _ := h.f.runners.Get(h.id)
	return s
}
