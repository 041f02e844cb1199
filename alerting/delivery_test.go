package alerting

import (
	"context"
	"encoding/json"
	"encoding/pem"
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
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func TestTLSAlertmanagerWithCAFile(t *testing.T) {
	var mu sync.Mutex
	var got models.PostableAlerts
	srv := httptest.NewTLSServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		var as models.PostableAlerts
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&as))
		mu.Lock()
		got = append(got, as...)
		mu.Unlock()
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	cfg := testConfig([]string{srv.URL}, "")
	cfg.Destinations["am"].Alertmanager.TLS = TLSConfig{CAFile: ca, MinVersion: "1.2"}
	m := startManager(t, cfg, t.TempDir(), nil)
	m.Notify(firing("a", time.Now()))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	}, waitFor, tick, "the CA file makes the test server trusted")
	require.NoError(t, m.Shutdown(context.Background()))

	cfg.Destinations["am"].Alertmanager.TLS = TLSConfig{CAFile: filepath.Join(t.TempDir(), "missing.pem")}
	_, err := NewManager(cfg, Settings{Dir: t.TempDir()})
	require.ErrorContains(t, err, "'tls::ca_file'")
}

func TestOneAlertmanagerDownIsEnough(t *testing.T) {
	up, down := newFakeServer(t, false), newFakeServer(t, false)
	down.setMode(modeFail)
	m := startManager(t, testConfig([]string{down.URL, up.URL}, ""), t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	m.Notify(firing("a", time.Now()))
	require.Eventually(t, func() bool { return len(up.received()) == 1 }, waitFor, tick)
	require.Eventually(t, func() bool { return m.QueueDepth("am") == 0 }, waitFor, tick,
		"one Alertmanager accepting the batch delivers it (HA dedups)")
}

func TestAlertsQueuedByACrashedProcessAreDelivered(t *testing.T) {
	am := newFakeServer(t, false)
	dir := t.TempDir()
	cfg := testConfig([]string{am.URL}, "")
	// The first process queues alerts and dies before any sender ran: no
	// Start, no Shutdown, like kill -9.
	crashed, err := NewManager(cfg, Settings{Dir: dir})
	require.NoError(t, err)
	crashed.Notify(firing("a", time.Now()), firing("b", time.Now()))
	state := crashed.ExportState()
	require.Equal(t, 2, crashed.QueueDepth("am"))

	restarted := startManager(t, cfg, dir, nil)
	restarted.ImportState(state)
	defer func() { require.NoError(t, restarted.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return len(am.received()) == 2 }, waitFor, tick)
	restarted.Notify(firing("a", time.Now()))
	restarted.Tick(time.Now())
	require.Eventually(t, func() bool { return restarted.QueueDepth("am") == 0 }, waitFor, tick)
	assert.Len(t, am.received(), 2, "the restored state prevents an immediate duplicate")
}

func TestResendLoopKeepsAFiringAlertAlive(t *testing.T) {
	am := newFakeServer(t, false)
	cfg := testConfig([]string{am.URL}, "")
	cfg.ResendInterval = 50 * time.Millisecond
	m := startManager(t, cfg, t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	m.Notify(firing("a", time.Now()))
	require.Eventually(t, func() bool { return len(am.received()) >= 3 }, waitFor, tick,
		"the resend loop re-sends a firing alert every resend interval")
	as := am.received()
	assert.True(t, time.Time(as[2].EndsAt).After(time.Time(as[0].EndsAt)), "each resend moves endsAt ahead")
	assert.Equal(t, as[0].Labels, as[2].Labels)
}

func TestQueuedResendsAreCoalescedAfterAnOutage(t *testing.T) {
	am := newFakeServer(t, false)
	dir := t.TempDir()
	cfg := testConfig([]string{am.URL}, "")
	now := time.Now().UTC().Truncate(time.Millisecond)
	queued, err := NewManager(cfg, Settings{Dir: dir})
	require.NoError(t, err)
	queued.Notify(firing("a", now))
	queued.Notify(firing("b", now))
	queued.Tick(now.Add(time.Minute))
	queued.Tick(now.Add(2 * time.Minute))
	require.Equal(t, 6, queued.QueueDepth("am"), "three rounds of two alerts wait")

	reader := sdkmetric.NewManualReader()
	m := startManager(t, cfg, dir, sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool { return m.QueueDepth("am") == 0 }, waitFor, tick)
	got := am.received()
	require.Len(t, got, 2, "one copy per alert reaches Alertmanager")
	for _, a := range got {
		assert.True(t, time.Time(a.EndsAt).Equal(now.Add(6*time.Minute)), "the newest copy wins: %s", time.Time(a.EndsAt))
	}
	assert.Equal(t, []string{"a", "b"}, []string{got[0].Labels["slo"], got[1].Labels["slo"]})
	require.Eventually(t, func() bool {
		return counterValue(t, reader, "obsd_alerts_sent_total", "am", OutcomeSuperseded) == 4
	}, waitFor, tick)
	assert.Equal(t, int64(2), counterValue(t, reader, "obsd_alerts_sent_total", "am", OutcomeSuccess))
}

func TestEndpointLabelCarriesNoSecrets(t *testing.T) {
	assert.Equal(t, "https://am.example:9093/api/v2/alerts",
		endpointLabel("https://user:pw@am.example:9093/api/v2/alerts?token=abc"))
	assert.Equal(t, "invalid", endpointLabel("http://[::1"))
}

func TestDestinationsReportTheLastDeliveryAndError(t *testing.T) {
	am := newFakeServer(t, false)
	am.setMode(modeFail)
	cfg := testConfig([]string{am.URL}, "")
	m := startManager(t, cfg, t.TempDir(), nil)
	defer func() { require.NoError(t, m.Shutdown(context.Background())) }()
	before := time.Now()
	m.Notify(firing("a", before))
	require.Eventually(t, func() bool { return m.Destinations()[0].LastError != "" }, waitFor, tick,
		"a failing Alertmanager's error is reported")
	d := m.Destinations()[0]
	assert.True(t, d.LastDelivered.IsZero(), "nothing delivered yet")
	assert.False(t, d.LastErrorAt.Before(before))
	assert.Equal(t, 1, d.Queued)

	am.setMode(modeOK)
	require.Eventually(t, func() bool { d = m.Destinations()[0]; return !d.LastDelivered.IsZero() && d.Queued == 0 }, waitFor, tick)
	assert.False(t, d.LastDelivered.Before(d.LastErrorAt), "the delivery came after the error")
}
