package walstorage

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/obsd-dev/obsd/internal/metrictest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is a small log in dir: 1 MiB files, no fsync, no compaction.
func testConfig(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.Fsync = FsyncNever
	cfg.SegmentSizeMiB = 1
	cfg.ReservedDiskMiB = 1
	cfg.Compaction.Interval = 0
	return cfg
}

// started is one started extension with its metrics and logs.
type started struct {
	ext    *walExtension
	reader *sdkmetric.ManualReader
	logs   *observer.ObservedLogs
	id     component.ID
}

// start builds and starts wal_storage/<name> on cfg; stop shuts it down
// (also at cleanup, if the test did not).
func start(t testing.TB, name string, cfg *Config) (*started, func()) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	core, logs := observer.New(zap.InfoLevel)
	set := extensiontest.NewNopSettings(Type)
	set.ID = component.MustNewIDWithName(Type.String(), name)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	set.MeterProvider = mp
	set.Logger = zap.New(core)
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		require.NoError(t, ext.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	}
	t.Cleanup(stop)
	return &started{ext: ext.(*walExtension), reader: reader, logs: logs, id: set.ID}, stop
}

func (s *started) client(t testing.TB, kind component.Kind, id, name string) storage.Client {
	t.Helper()
	var cid component.ID
	require.NoError(t, cid.UnmarshalText([]byte(id)))
	c, err := s.ext.GetClient(context.Background(), kind, cid, name)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// metricValues reads an int64 metric as "label=value,..." -> value.
func metricValues(t *testing.T, reader *sdkmetric.ManualReader, name string, labels ...string) map[string]int64 {
	t.Helper()
	return metrictest.Int64Values(t, reader, name, labels...)
}

// histogramCount is how many values a histogram recorded.
func histogramCount(t *testing.T, reader *sdkmetric.ManualReader, name string) uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == name {
				for _, dp := range h.DataPoints {
					n += dp.Count
				}
			}
		}
	}
	return n
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(msg)
}

func extensionSettings() extension.Settings {
	set := extensiontest.NewNopSettings(Type)
	set.ID = component.MustNewIDWithName(Type.String(), "second")
	return set
}
