package walstorage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/internal/piggyback"
)

// TestPiggybackRidesOnTheQueuePut: a write offered in a request's context
// (the slo connector's journal record) is committed by the real
// exporterhelper persistent queue's put of that request, in the same
// batch; a put that is refused carries it down with it, and a write of
// another log, or of a batch that only reads, is left to its owner.
func TestPiggybackRidesOnTheQueuePut(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t.TempDir())
	cfg.MaxSizeMiB = 2
	s, _ := start(t, "queue", cfg)
	journal := s.client(t, component.KindConnector, "slo", "journal")

	release := make(chan struct{})
	qcfg := exporterhelper.NewDefaultQueueConfig()
	qcfg.StorageID = &s.id
	qcfg.NumConsumers = 1
	qcfg.QueueSize = 1 << 20
	qcfg.Batch = configoptional.None[exporterhelper.BatchConfig]()
	exp, err := exporterhelper.NewTraces(ctx, exportertest.NewNopSettings(component.MustNewType("otlp_grpc")), &struct{}{},
		func(ctx context.Context, _ ptrace.Traces) error {
			select { // a backend that hangs: the queue only grows
			case <-release:
			case <-ctx.Done():
			}
			return errors.New("backend down")
		},
		exporterhelper.WithQueue(configoptional.Some(qcfg)),
		exporterhelper.WithRetry(configretry.BackOffConfig{Enabled: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: time.Minute}))
	require.NoError(t, err)
	host := extensionHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{s.id: s.ext}}
	require.NoError(t, exp.Start(ctx, host))
	defer func() {
		close(release)
		require.NoError(t, exp.Shutdown(ctx))
	}()
	groups := func() int64 { g, _, _, _, _ := s.ext.log.Counters(); return g }

	t.Run("the put of the request commits it, in the same write", func(t *testing.T) {
		pw := &piggyback.Write{Owner: journal, Key: "j1", Value: []byte("slo events of the request")}
		before := groups()
		require.NoError(t, exp.ConsumeTraces(piggyback.NewContext(ctx, pw), spans(10)))
		assert.Equal(t, piggyback.Written, pw.Close())
		assert.Equal(t, int64(1), groups()-before, "one write for the item and the journal record")
		v, err := journal.Get(ctx, "j1")
		require.NoError(t, err)
		assert.Equal(t, "slo events of the request", string(v))
	})

	t.Run("a write of another log is left to its owner", func(t *testing.T) {
		other, _ := start(t, "other", testConfig(t.TempDir()))
		pw := &piggyback.Write{Owner: other.client(t, component.KindConnector, "slo", "journal"), Key: "j2", Value: []byte("x")}
		require.NoError(t, exp.ConsumeTraces(piggyback.NewContext(ctx, pw), spans(10)))
		assert.Equal(t, piggyback.Closed, pw.Close())
	})

	t.Run("a batch that only reads does not take it", func(t *testing.T) {
		pw := &piggyback.Write{Owner: journal, Key: "j3", Value: []byte("x")}
		pctx := piggyback.NewContext(ctx, pw)
		_, err := s.client(t, component.KindExporter, "otlp_grpc", "").Get(pctx, "absent")
		require.NoError(t, err)
		assert.Equal(t, piggyback.Closed, pw.Close())
	})

	t.Run("a refused put takes it down with it", func(t *testing.T) {
		var putErr error
		for i := 0; i < 10000 && putErr == nil; i++ {
			putErr = exp.ConsumeTraces(ctx, spans(50))
		}
		require.ErrorIs(t, putErr, storage.ErrStorageFull, "the 2 MiB log never filled")
		pw := &piggyback.Write{Owner: journal, Key: "j4", Value: []byte("x")}
		err := exp.ConsumeTraces(piggyback.NewContext(ctx, pw), spans(50))
		require.ErrorIs(t, err, storage.ErrStorageFull)
		assert.Equal(t, piggyback.Failed, pw.Close())
		v, err := journal.Get(ctx, "j4")
		require.NoError(t, err)
		assert.Nil(t, v, "nothing of the refused batch was written")
	})
}
