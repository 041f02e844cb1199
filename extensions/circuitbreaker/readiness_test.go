package circuitbreaker

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/featuregate"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

const healthGate = "extension.healthcheck.useComponentStatus"

// forwardingHost hands a component's status reports to a status watcher,
// as the collector's service does for the health_check extension.
type forwardingHost struct {
	component.Host
	watcher extensioncapabilities.ComponentStatusWatcher
	id      *componentstatus.InstanceID
}

func (h *forwardingHost) Report(e *componentstatus.Event) { h.watcher.Changed(h.id, e) }

// startHealthCheck starts the real health_check extension, with component
// status on, on a free loopback port, configured as config.example.yaml
// configures it; it returns its URL.
func startHealthCheck(t *testing.T) (extension.Extension, string) {
	t.Helper()
	require.NoError(t, featuregate.GlobalRegistry().Set(healthGate, true))
	t.Cleanup(func() { _ = featuregate.GlobalRegistry().Set(healthGate, false) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	f := healthcheckextension.NewFactory()
	cfg := f.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"endpoint":         addr,
		"component_health": map[string]any{"include_recoverable_errors": true, "recovery_duration": "0s"},
	}).Unmarshal(cfg))
	hc, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, hc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, hc.Shutdown(context.Background())) })
	return hc, "http://" + addr + "/"
}

// eventuallyStatus waits until url answers with a status for which ok is
// true, and fails with what it last got.
func eventuallyStatus(t *testing.T, url string, ok func(int) bool, why string) {
	t.Helper()
	last := 0
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			last = resp.StatusCode
			_ = resp.Body.Close()
			if ok(last) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: health endpoint last answered %d", why, last)
}

// barrier sends a status report of a component of its own through the
// health check's watcher and returns once the health check has taken it:
// it takes reports one at a time, in order, recording each before taking
// the next.
func barrier(w extensioncapabilities.ComponentStatusWatcher) {
	id := componentstatus.NewInstanceID(component.MustNewID("barrier"), component.KindExtension)
	w.Changed(id, componentstatus.NewEvent(componentstatus.StatusOK))
}

// healthStatus is the status the health endpoint answers now.
func healthStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func ready(code int) bool    { return code == http.StatusOK }
func notReady(code int) bool { return code >= 500 }

func TestHealthCheckIsNotReadyWhileEveryCircuitIsOpen(t *testing.T) {
	hc, url := startHealthCheck(t)
	watcher := hc.(extensioncapabilities.ComponentStatusWatcher)
	backend := &flakyHTTP{failStatus: http.StatusServiceUnavailable}
	backend.failing.Store(true)
	srv := httptest.NewServer(backend)
	defer srv.Close()

	cfg := testConfig()
	cfg.Delay = time.Hour
	var breakers []*breaker
	for _, name := range []string{"traces", "logs"} {
		id := componentstatus.NewInstanceID(component.NewIDWithName(Type, name), component.KindExtension)
		host := &forwardingHost{Host: componenttest.NewNopHost(), watcher: watcher, id: id}
		// The service reports Starting before Start and OK after it.
		host.Report(componentstatus.NewEvent(componentstatus.StatusStarting))
		b, _ := newTestBreaker(t, name, cfg, host)
		host.Report(componentstatus.NewEvent(componentstatus.StatusOK))
		breakers = append(breakers, b)
	}
	require.NoError(t, hc.(extensioncapabilities.PipelineWatcher).Ready())
	eventuallyStatus(t, url, ready, "every circuit closed")

	for range 3 {
		post(t, httpClient(t, breakers[0]), srv.URL)
	}
	require.Equal(t, breakerstate.Open, breakers[0].State())
	// The breakers report synchronously as their circuit changes, and the
	// health check records reports in order on one goroutine: once a later
	// report has been taken, every report of the opening has been recorded,
	// so the endpoint answers what it would answer for good.
	barrier(watcher)
	require.Equal(t, http.StatusOK, healthStatus(t, url), "one circuit of two open: the other backend still takes data")

	for range 3 {
		post(t, httpClient(t, breakers[1]), srv.URL)
	}
	require.Equal(t, breakerstate.Open, breakers[1].State())
	eventuallyStatus(t, url, notReady, "every circuit open")

	breakers[1].cb.Close()
	eventuallyStatus(t, url, ready, "a circuit closed again")
}
