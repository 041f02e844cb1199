package slo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/alerting"
)

func TestPageTransitionsReachAlertingAndItsStateIsSaved(t *testing.T) {
	var mu sync.Mutex
	var got []alerting.WebhookAlert
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg alerting.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, msg.Alerts...)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	cfg := testConfig(dir)
	al := alerting.DefaultConfig()
	al.Templates.DashboardURL = "https://grafana.example/d/slo-{{ .SLO }}"
	al.Route = alerting.RouteConfig{Receiver: "hook"}
	al.Destinations = map[string]alerting.DestinationConfig{"hook": {Webhook: &alerting.WebhookConfig{URL: srv.URL}}}
	cfg.Alerting = &al
	require.NoError(t, cfg.Validate())

	h := newHarness(t, cfg, t0)
	failed := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, failed: true, end: t0.Add(10 * time.Second)}
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(repeat(10, failed)...)))
	h.evaluate(t0.Add(30 * time.Second))

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}, 10*time.Second, 10*time.Millisecond, "the webhook never got the page")
	mu.Lock()
	a := got[0]
	mu.Unlock()
	assert.Equal(t, "firing", a.Status)
	assert.Equal(t, "checkout-spans", a.Labels["slo"])
	assert.Equal(t, "checkout", a.Labels["service"])
	assert.Equal(t, "payments", a.Labels["team"], "the SLO's labels are copied")
	assert.Equal(t, "page", a.Labels["severity"])
	assert.Equal(t, "5m", a.Labels["long_window"])
	assert.Equal(t, "1m", a.Labels["short_window"])
	assert.Equal(t, "https://grafana.example/d/slo-checkout-spans", a.Annotations["dashboard_url"])

	h.shutdown()
	data, err := os.ReadFile(h.sharedPath(t, dir, "alerting.json"))
	require.NoError(t, err, "the alerting state is saved beside the snapshot")
	var st alerting.State
	require.NoError(t, json.Unmarshal(data, &st))
	assert.Len(t, st.Alerts, 1, "the firing page is in the saved state")
}
