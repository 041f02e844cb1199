package alerting

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Modes of a fake server.
const (
	modeOK = iota
	modeFail
	modeHang
	modeReject
)

// fakeServer plays Alertmanager (API v2) or a webhook receiver on loopback.
type fakeServer struct {
	*httptest.Server
	t       *testing.T
	webhook bool

	stop     chan struct{}
	mu       sync.Mutex
	mode     int
	alerts   models.PostableAlerts
	messages []WebhookMessage
	auth     []string
	requests int
}

func newFakeServer(t *testing.T, webhook bool) *fakeServer {
	f := &fakeServer{t: t, webhook: webhook, stop: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(func() {
		close(f.stop)
		f.Close()
	})
	return f
}

func (f *fakeServer) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	mode := f.mode
	f.requests++
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	switch mode {
	case modeFail:
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case modeHang:
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
		return
	case modeReject:
		http.Error(w, "bad alerts", http.StatusBadRequest)
		return
	}
	if !f.webhook && (r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts") {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.webhook {
		var msg WebhookMessage
		if !assert.NoError(f.t, json.NewDecoder(r.Body).Decode(&msg)) {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		f.messages = append(f.messages, msg)
		return
	}
	var as models.PostableAlerts
	if !assert.NoError(f.t, json.NewDecoder(r.Body).Decode(&as)) {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.alerts = append(f.alerts, as...)
}

func (f *fakeServer) setMode(m int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
}

func (f *fakeServer) received() models.PostableAlerts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(models.PostableAlerts(nil), f.alerts...)
}

func (f *fakeServer) webhookAlerts() []WebhookAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []WebhookAlert
	for _, m := range f.messages {
		out = append(out, m.Alerts...)
	}
	return out
}

func (f *fakeServer) headers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// testConfig routes everything to "am" (the given Alertmanagers) with a
// webhook fallback, and fast delivery settings.
func testConfig(amURLs []string, hookURL string) Config {
	cfg := DefaultConfig()
	cfg.Templates.RunbookURL = "https://runbooks.example/{{ .Service }}/{{ .SLO }}"
	cfg.Templates.DashboardURL = "https://grafana.example/d/{{ .SLO }}"
	cfg.Route = RouteConfig{Receiver: "am"}
	cfg.Destinations = map[string]DestinationConfig{
		"am":   {Alertmanager: &AlertmanagerConfig{URLs: amURLs}},
		"hook": {Webhook: &WebhookConfig{URL: hookURL}},
	}
	if hookURL != "" {
		cfg.Destinations["am"] = DestinationConfig{
			Alertmanager: &AlertmanagerConfig{URLs: amURLs},
			Fallback:     &FallbackConfig{Destination: "hook", After: 150 * time.Millisecond},
		}
	} else {
		delete(cfg.Destinations, "hook")
	}
	cfg.Delivery.Timeout = 200 * time.Millisecond
	cfg.Delivery.InitialBackoff = 10 * time.Millisecond
	cfg.Delivery.MaxBackoff = 50 * time.Millisecond
	cfg.Delivery.Breaker = BreakerConfig{FailureThreshold: 2, OpenDuration: 300 * time.Millisecond, SuccessThreshold: 1}
	return cfg
}

func startManager(t *testing.T, cfg Config, dir string, mp *sdkmetric.MeterProvider) *Manager {
	t.Helper()
	set := Settings{Dir: dir}
	if mp != nil {
		set.MeterProvider = mp
	}
	m, err := NewManager(cfg, set)
	require.NoError(t, err)
	require.NoError(t, m.Start(context.Background()))
	return m
}

func firing(slo string, at time.Time) contract.Transition {
	tr := sampleTransition
	tr.SLO, tr.State, tr.At, tr.ActiveSince = slo, contract.StateFiring, at, at.Add(-5*time.Minute)
	return tr
}

const waitFor, tick = 10 * time.Second, 10 * time.Millisecond

func TestManagerSendsToEveryAlertmanager(t *testing.T) {
	am1, am2 := newFakeServer(t, false), newFakeServer(t, false)
	cfg := testConfig([]string{am1.URL, am2.URL + "/"}, "")
	cfg.Destinations["am"].Alertmanager.BasicAuth = &BasicAuth{Username: "obsd", Password: "pw"}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m := startManager(t, cfg, t.TempDir(), mp)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()

	now := time.Now().UTC().Truncate(time.Second)
	m.Notify(firing("checkout-availability", now))
	for _, am := range []*fakeServer{am1, am2} {
		require.Eventually(t, func() bool { return len(am.received()) == 1 }, waitFor, tick)
		a := am.received()[0]
		assert.Equal(t, "checkout-availability", a.Labels["slo"])
		assert.Equal(t, "payments", a.Labels["team"], "SLO labels become alert labels")
		assert.Equal(t, "https://runbooks.example/checkout/checkout-availability", a.Annotations["runbook_url"])
		assert.Equal(t, "https://grafana.example/d/checkout-availability", a.Annotations["dashboard_url"])
		assert.True(t, time.Time(a.EndsAt).Equal(now.Add(4*time.Minute)), "endsAt is four resend intervals ahead")
		assert.True(t, time.Time(a.StartsAt).Equal(now.Add(-5*time.Minute)))
		assert.Equal(t, "Basic b2JzZDpwdw==", am.headers()[0])
	}
	assert.Equal(t, int64(1), gaugeValue(t, reader, "obsd_alerts_active", attribute.String("severity", "page")))

	resolvedAt := time.Now().UTC().Truncate(time.Millisecond) // the wire format has milliseconds
	resolved := firing("checkout-availability", resolvedAt)
	resolved.State = contract.StateResolved
	m.Notify(resolved)
	require.Eventually(t, func() bool { return len(am1.received()) == 2 }, waitFor, tick)
	assert.True(t, time.Time(am1.received()[1].EndsAt).Equal(resolvedAt), "a resolved alert ends at its resolve time")

	future := firing("latency", time.Now().Add(time.Hour))
	future.State = contract.StateResolved
	m.Notify(firing("latency", time.Now()))
	require.Eventually(t, func() bool { return len(am1.received()) == 3 }, waitFor, tick)
	m.Notify(future)
	require.Eventually(t, func() bool { return len(am1.received()) == 4 }, waitFor, tick)
	assert.False(t, time.Time(am1.received()[3].EndsAt).After(time.Now()), "a resolve time in the future is clamped to now")
	assert.Equal(t, int64(0), gaugeValue(t, reader, "obsd_alerts_active", attribute.String("severity", "page")))
	require.Eventually(t, func() bool {
		return counterValue(t, reader, "obsd_alerts_sent_total", "am", OutcomeSuccess) == 4
	}, waitFor, tick)
	assert.Equal(t, int64(0), gaugeValue(t, reader, "obsd_alerts_queue_depth", attribute.String("destination", "am")))
}

func TestBreakerOpensFallbackDeliversAndBreakerClosesOnRecovery(t *testing.T) {
	for name, mode := range map[string]int{"an Alertmanager answering 500": modeFail, "a hanging Alertmanager": modeHang} {
		t.Run(name, func(t *testing.T) {
			am, hook := newFakeServer(t, false), newFakeServer(t, true)
			am.setMode(mode)
			reader := sdkmetric.NewManualReader()
			m := startManager(t, testConfig([]string{am.URL}, hook.URL+"/hook"), t.TempDir(), sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
			defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
			endpoint := endpointLabel(am.URL + "/api/v2/alerts")

			m.Notify(firing("checkout-availability", time.Now()))
			require.Eventually(t, func() bool { return len(hook.webhookAlerts()) == 1 }, waitFor, tick, "the fallback webhook gets the alert")
			got := hook.webhookAlerts()[0]
			assert.Equal(t, "firing", got.Status)
			assert.Equal(t, "https://runbooks.example/checkout/checkout-availability", got.Annotations["runbook_url"])
			assert.Equal(t, breakerstate.Open, m.CircuitState("am")[endpoint], "the breaker opened")
			assert.Equal(t, int64(2), gaugeValue(t, reader, "obsd_alerts_circuit_state", attribute.String("endpoint", endpoint)))
			assert.Equal(t, int64(1), counterValue(t, reader, "obsd_alerts_sent_total", "am", OutcomeFallback))
			require.Eventually(t, func() bool {
				return counterValue(t, reader, "obsd_alerts_sent_total", "hook", OutcomeSuccess) == 1
			}, waitFor, tick, "the webhook delivery is counted once its response is in")
			assert.Empty(t, am.received())

			am.setMode(modeOK)
			// Resends keep coming (one resend interval per poll here); once the
			// breaker lets a probe through, they reach Alertmanager again.
			at := time.Now()
			require.Eventually(t, func() bool {
				at = at.Add(time.Minute)
				m.Tick(at)
				return len(am.received()) > 0
			}, waitFor, tick, "delivery resumes after recovery")
			assert.Equal(t, "checkout-availability", am.received()[0].Labels["slo"])
			require.Eventually(t, func() bool { return m.CircuitState("am")[endpoint] == breakerstate.Closed }, waitFor, tick)
			assert.Equal(t, int64(0), gaugeValue(t, reader, "obsd_alerts_circuit_state", attribute.String("endpoint", endpoint)))
		})
	}
}

func TestOutboxDeliversAfterRestart(t *testing.T) {
	am := newFakeServer(t, false)
	am.setMode(modeFail)
	dir := t.TempDir()
	cfg := testConfig([]string{am.URL}, "")
	first := startManager(t, cfg, dir, nil)
	first.Notify(firing("a", time.Now()), firing("b", time.Now()))
	require.Eventually(t, func() bool {
		am.mu.Lock()
		defer am.mu.Unlock()
		return am.requests >= 2
	}, waitFor, tick)
	require.NoError(t, first.Shutdown(context.Background()))
	assert.Equal(t, 2, first.QueueDepth("am"), "nothing was delivered, everything is still queued")

	am.setMode(modeOK)
	second := startManager(t, cfg, dir, nil)
	defer func() { require.NoError(t, second.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return len(am.received()) == 2 }, waitFor, tick, "the new manager delivers what the old one held")
	require.Eventually(t, func() bool { return second.QueueDepth("am") == 0 }, waitFor, tick)
	entries, err := os.ReadDir(filepath.Join(dir, "am"))
	require.NoError(t, err)
	assert.Empty(t, entries, "delivered batches are deleted from disk")
}

func TestRejectedAlertsAreDroppedAndCounted(t *testing.T) {
	am := newFakeServer(t, false)
	am.setMode(modeReject)
	reader := sdkmetric.NewManualReader()
	m := startManager(t, testConfig([]string{am.URL}, ""), t.TempDir(), sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	m.Notify(firing("a", time.Now()))
	require.Eventually(t, func() bool {
		return counterValue(t, reader, "obsd_alerts_sent_total", "am", OutcomeRejected) == 1
	}, waitFor, tick)
	assert.Equal(t, 0, m.QueueDepth("am"))
	assert.Equal(t, breakerstate.Closed, m.CircuitState("am")[endpointLabel(am.URL+"/api/v2/alerts")], "a 4xx does not count against the endpoint")
}

func TestWebhookBearerTokenFromFile(t *testing.T) {
	hook := newFakeServer(t, true)
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("s3cret\n"), 0o600))
	cfg := testConfig([]string{"http://127.0.0.1:1"}, hook.URL)
	cfg.Destinations["hook"].Webhook.BearerTokenFile = token
	cfg.Route = RouteConfig{Receiver: "am", Routes: []RouteConfig{{Matchers: []string{`severity="ticket"`}, Receiver: "hook"}}}
	m := startManager(t, cfg, t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	tr := firing("a", time.Now())
	tr.Severity = contract.SeverityTicket
	m.Notify(tr)
	require.Eventually(t, func() bool { return len(hook.webhookAlerts()) == 1 }, waitFor, tick)
	assert.Equal(t, "Bearer s3cret", hook.headers()[0])
	assert.Equal(t, "ticket", hook.webhookAlerts()[0].Labels["severity"])
}

func TestNewManagerRefusesInvalidConfig(t *testing.T) {
	cfg := testConfig([]string{"http://127.0.0.1:1"}, "")
	cfg.Templates.Summary = "{{ .Nope }}"
	_, err := NewManager(cfg, Settings{Dir: t.TempDir()})
	require.ErrorContains(t, err, "'templates::summary'")
	_, err = NewManager(testConfig([]string{"http://127.0.0.1:1"}, ""), Settings{})
	require.ErrorContains(t, err, "outbox directory")
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	return rm
}

func gaugeValue(t *testing.T, r *sdkmetric.ManualReader, name string, attr attribute.KeyValue) int64 {
	t.Helper()
	for _, sm := range collect(t, r).ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == name {
				for _, dp := range g.DataPoints {
					if v, ok := dp.Attributes.Value(attr.Key); ok && v == attr.Value {
						return dp.Value
					}
				}
			}
		}
	}
	return -1
}

func counterValue(t *testing.T, r *sdkmetric.ManualReader, name, dest, outcome string) int64 {
	t.Helper()
	for _, sm := range collect(t, r).ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, dp := range s.DataPoints {
					d, _ := dp.Attributes.Value("destination")
					o, _ := dp.Attributes.Value("outcome")
					if d.AsString() == dest && o.AsString() == outcome {
						return dp.Value
					}
				}
			}
		}
	}
	return 0
}
