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
	f := &factory{indexes: map[component.ID]*sharedIndex{}}
	a := component.MustNewIDWithName("correlation", "a")
	b := component.MustNewIDWithName("correlation", "b")

	logsA := f.acquire(a, cfg)
	tracesA := f.acquire(a, cfg)
	otherB := f.acquire(b, cfg)
	assert.Same(t, logsA, tracesA, "the logs and traces instances of one id share an index")
	assert.NotSame(t, logsA, otherB, "different ids have different indexes")

	f.release(a, logsA)
	assert.Len(t, f.indexes, 2, "the index lives while an instance uses it")
	f.release(a, tracesA)
	f.release(b, otherB)
	assert.Empty(t, f.indexes, "released indexes are forgotten")

	cfg.Orphans.Enabled = false
	assert.Nil(t, f.acquire(a, cfg), "no index when orphan counting is off")
	f.release(a, nil)
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
