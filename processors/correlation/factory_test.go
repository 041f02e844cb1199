package correlation

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/obsd-dev/obsd/internal/sharedcomponent"
)

func TestFactoryDescribesTheComponent(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "correlation", f.Type().String())
	assert.Equal(t, component.StabilityLevelAlpha, f.LogsStability())
	assert.Equal(t, component.StabilityLevelAlpha, f.TracesStability())
	cfg := f.CreateDefaultConfig()
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, cfg.(*Config).Validate())
	_, err := f.CreateMetrics(context.Background(), processortest.NewNopSettings(Type), cfg, consumertest.NewNop())
	assert.Error(t, err, "metrics are not a supported signal")
}

func TestFactorySharesTheOrphanIndexPerComponentID(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Orphans = OrphansConfig{Enabled: true, Window: time.Minute, MaxEntries: 10}
	f := &factory{orphans: sharedcomponent.NewMap[component.ID, *sharedOrphans]()}
	a := component.MustNewIDWithName("correlation", "a")
	b := component.MustNewIDWithName("correlation", "b")
	ctx := context.Background()
	acquire := func(id component.ID) *sharedcomponent.Ref[component.ID, *sharedOrphans] {
		ref, err := f.acquire(id, cfg)
		require.NoError(t, err)
		return ref
	}

	logsA := acquire(a)
	tracesA := acquire(a)
	otherB := acquire(b)
	assert.Same(t, logsA.Value().index, tracesA.Value().index, "the logs and traces instances of one id share an index")
	assert.NotSame(t, logsA.Value().index, otherB.Value().index, "different ids have different indexes")

	require.NoError(t, logsA.Shutdown(ctx))
	assert.Equal(t, 2, f.orphans.Len(), "the index lives while an instance uses it")
	require.NoError(t, tracesA.Shutdown(ctx))
	require.NoError(t, otherB.Shutdown(ctx))
	assert.Zero(t, f.orphans.Len(), "released indexes are forgotten")

	cfg.Orphans.Enabled = false
	off := acquire(a)
	assert.Nil(t, off.Value().index, "no index when orphan counting is off")
	require.NoError(t, off.Shutdown(ctx))
}

func TestConcurrentBatchesAreSafe(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Orphans = OrphansConfig{Enabled: true, Window: time.Minute, MaxEntries: 5}
	cfg.DefaultPolicy.Action = ActionDrop
	cfg.MaxServices = 3
	h := newHarness(t, cfg)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				svc := string(rune('a' + (g+i)%6))
				assert.NoError(t, h.traces.ConsumeTraces(context.Background(), newTraces(svc, map[string]any{"x-request-id": "r"})))
				assert.NoError(t, h.logs.ConsumeLogs(context.Background(), newLogs(map[string]any{"service.name": svc},
					record{body: `{"trace_id":"` + w3cTrace + `"}`}, record{body: "drop me"}, record{trace: w3cTrace})))
			}
		}()
	}
	wg.Wait()
	total, _ := counterValue(t, h, "obsd_correlation_log_records_total", map[string]string{})
	assert.Equal(t, int64(4*50*3), total)
	assertCounter(t, h, "obsd_correlation_dropped_total", map[string]string{}, 4*50)
}
