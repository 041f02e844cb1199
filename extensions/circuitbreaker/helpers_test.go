package circuitbreaker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/obsd-dev/obsd/internal/metrictest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig opens after 3 consecutive failures, probes after 50ms and
// closes after 2 successful probes.
func testConfig() *Config {
	return &Config{FailureThreshold: 3, Delay: 50 * time.Millisecond, SuccessThreshold: 2}
}

// statusHost is a component.Host that records the statuses reported
// through it, as the service's host does for the health_check extension.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []componentstatus.Status
}

var _ componentstatus.Reporter = (*statusHost)(nil)

func newStatusHost() *statusHost { return &statusHost{Host: componenttest.NewNopHost()} }

func (h *statusHost) Report(e *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e.Status())
}

func (h *statusHost) last() componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return componentstatus.StatusNone
	}
	return h.events[len(h.events)-1]
}

// newTestBreaker builds and starts a breaker named circuit_breaker/<name>
// with a manual metric reader, and shuts it down at cleanup.
func newTestBreaker(t testing.TB, name string, cfg *Config, host component.Host) (*breaker, *sdkmetric.ManualReader) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	set := extensiontest.NewNopSettings(Type)
	set.ID = component.NewIDWithName(Type, name)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() {
		require.NoError(t, ext.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	return ext.(*breaker), reader
}

// extensionsOf is the extensions map a host hands to ToClient.
func extensionsOf(b *breaker) map[component.ID]component.Component {
	return map[component.ID]component.Component{mustID(b.id): b}
}

func mustID(s string) component.ID {
	var id component.ID
	if err := id.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return id
}

// metricValues reads an int64 metric as "label=value,..." -> value.
func metricValues(t *testing.T, reader *sdkmetric.ManualReader, name string, labels ...string) map[string]int64 {
	t.Helper()
	return metrictest.Int64Values(t, reader, name, labels...)
}
