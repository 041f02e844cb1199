package slo

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
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/obsd-dev/obsd/extensions/walstorage"
	"github.com/obsd-dev/obsd/slo/contract"
)

// storageHost hands components their extensions, as the service does.
type storageHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h storageHost) GetExtensions() map[component.ID]component.Component { return h.exts }

var walID = component.MustNewIDWithName("wal_storage", "queue")

// walStorage starts wal_storage/queue in dir.
func walStorage(t testing.TB, dir string) extension.Extension {
	t.Helper()
	f := walstorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*walstorage.Config)
	cfg.Directory, cfg.Fsync = dir, walstorage.FsyncNever
	set := extensiontest.NewNopSettings(f.Type())
	set.ID = walID
	ext, err := f.Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext
}

// queueExporter is exporterhelper's persistent queue on the storage of
// host, in front of a backend that takes everything.
func queueExporter(t *testing.T, host component.Host) exporter.Traces {
	t.Helper()
	ctx := context.Background()
	qcfg := exporterhelper.NewDefaultQueueConfig()
	qcfg.StorageID = &walID
	qcfg.NumConsumers = 1
	qcfg.Batch = configoptional.None[exporterhelper.BatchConfig]()
	exp, err := exporterhelper.NewTraces(ctx, exportertest.NewNopSettings(component.MustNewType("otlp_grpc")), &struct{}{},
		func(context.Context, ptrace.Traces) error { return nil },
		exporterhelper.WithQueue(configoptional.Some(qcfg)),
		exporterhelper.WithRetry(configretry.BackOffConfig{Enabled: false}))
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, host))
	return exp
}

// instance is one run of obsd's SLO path: wal_storage, the slo connector
// (its traces instance at the fan-out, with storage) and the slo processor
// in front of a persistent queue, on one state directory.
type instance struct {
	t       *testing.T
	clock   *clock
	f       *factory
	tel     *componenttest.Telemetry
	wal     extension.Extension
	exp     exporter.Traces
	conn    connector.Traces
	proc    processor.Traces
	refuse  bool // the part of the pipeline after the processor refuses
	stopped bool
}

func startInstance(t *testing.T, stateDir, walDir string, now time.Time) *instance {
	t.Helper()
	ctx := context.Background()
	in := &instance{t: t, clock: &clock{now: now}, tel: componenttest.NewTelemetry()}
	in.wal = walStorage(t, walDir)
	host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{walID: in.wal}}
	in.exp = queueExporter(t, host)
	in.f = newFactory(in.clock.Now)
	cfg := testConfig(stateDir)
	cfg.Storage = &walID
	cset := connectortest.NewNopSettings(Type)
	cset.ID = component.NewID(Type)
	cset.TelemetrySettings = in.tel.NewTelemetrySettings()
	var err error
	in.conn, err = in.f.build().CreateTracesToMetrics(ctx, cset, cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	pset := processortest.NewNopSettings(Type)
	pset.ID = cset.ID
	next, err := consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		if in.refuse {
			return errors.New("memory limit reached, try later")
		}
		return in.exp.ConsumeTraces(ctx, td)
	})
	require.NoError(t, err)
	in.proc, err = in.f.buildProcessor().CreateTraces(ctx, pset, &ProcessorConfig{}, next)
	require.NoError(t, err)
	assert.False(t, in.proc.Capabilities().MutatesData, "the processor only reads: no copy before it")
	require.NoError(t, in.conn.Start(ctx, host))
	require.NoError(t, in.proc.Start(ctx, host))
	t.Cleanup(in.stop)
	return in
}

func (in *instance) runner() *runner {
	r, ok := in.f.runners.Get(component.NewID(Type))
	require.True(in.t, ok)
	return r
}

// crash stops everything as kill -9 would leave it: no snapshot, no
// journal truncation; what the log holds is what the kernel had.
func (in *instance) crash() {
	r := in.runner()
	r.cancel()
	r.wg.Wait()
	require.NoError(in.t, r.tel.unregister())
	in.stopped = true
	require.NoError(in.t, in.exp.Shutdown(context.Background()))
	require.NoError(in.t, in.wal.Shutdown(context.Background()))
	require.NoError(in.t, in.tel.Shutdown(context.Background()))
}

func (in *instance) stop() {
	if in.stopped {
		return
	}
	in.stopped = true
	ctx := context.Background()
	require.NoError(in.t, in.proc.Shutdown(ctx))
	require.NoError(in.t, in.conn.Shutdown(ctx))
	require.NoError(in.t, in.exp.Shutdown(ctx))
	require.NoError(in.t, in.wal.Shutdown(ctx))
	require.NoError(in.t, in.tel.Shutdown(ctx))
}

// counts evaluates and returns checkout-spans' events and bad events.
func (in *instance) counts(at time.Time) (events, bad float64) {
	in.clock.set(at)
	in.runner().evaluate(context.Background(), at)
	h := &harness{t: in.t, tel: in.tel}
	sel := map[string]string{"slo": "checkout-spans"}
	events, _ = h.telemetry(contract.MetricEvents, sel)
	bad, _ = h.telemetry(contract.MetricBadEvents, sel)
	return events, bad
}

func (in *instance) journaled(outcome string) float64 {
	h := &harness{t: in.t, tel: in.tel}
	n, _ := h.telemetry(contract.MetricJournalRecords, map[string]string{"outcome": outcome})
	return n
}

// request is 10 server spans of checkout, failed of them failing.
func request(end time.Time, failed int) ptrace.Traces {
	ok := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, dur: time.Millisecond, end: end}
	bad := ok
	bad.failed = true
	return traces(append(repeat(10-failed, ok), repeat(failed, bad)...)...)
}

// TestAcknowledgedMeansCountedAcrossKill9: every request the pipeline
// accepted is counted once, its journal record committed with the queue's
// put of the request; refused requests are not counted; after a crash
// between two snapshots (and one before any snapshot) a restart counts
// exactly what was accepted.
func TestAcknowledgedMeansCountedAcrossKill9(t *testing.T) {
	stateDir, walDir := t.TempDir(), t.TempDir()
	ctx := context.Background()
	run := startInstance(t, stateDir, walDir, t0)

	for i := range 5 {
		require.NoError(t, run.proc.ConsumeTraces(ctx, request(t0.Add(time.Duration(i)*time.Second), 2)))
	}
	run.refuse = true
	require.Error(t, run.proc.ConsumeTraces(ctx, request(t0, 10)), "the refusal reaches the client")
	run.refuse = false
	events, bad := run.counts(t0.Add(10 * time.Second))
	assert.Equal(t, 50.0, events, "5 accepted requests of 10 spans; the refused one is not counted")
	assert.Equal(t, 10.0, bad)
	assert.Equal(t, 5.0, run.journaled(contract.JournalCommitted), "every record rode on the queue's put")
	assert.Zero(t, run.journaled(contract.JournalWritten))

	// Killed before the first snapshot (the new user).
	run.crash()
	run = startInstance(t, stateDir, walDir, t0.Add(20*time.Second))
	events, bad = run.counts(t0.Add(20 * time.Second))
	assert.Equal(t, 50.0, events, "the journal alone brought the counts back")
	assert.Equal(t, 10.0, bad)
	assert.Equal(t, 5.0, run.journaled(contract.JournalReplayed))

	// More requests, a snapshot, more requests, then a crash: the
	// snapshot holds the first ones, the journal the rest.
	for i := range 3 {
		require.NoError(t, run.proc.ConsumeTraces(ctx, request(t0.Add(time.Duration(21+i)*time.Second), 1)))
	}
	run.runner().snapshot()
	for i := range 4 {
		require.NoError(t, run.proc.ConsumeTraces(ctx, request(t0.Add(time.Duration(25+i)*time.Second), 5)))
	}
	// The connector at a fan-out journals too, alone (no put carries it).
	require.NoError(t, run.conn.ConsumeTraces(ctx, request(t0.Add(29*time.Second), 0)))
	assert.Equal(t, 1.0, run.journaled(contract.JournalWritten))
	events, bad = run.counts(t0.Add(30 * time.Second))
	require.Equal(t, 130.0, events)
	require.Equal(t, 33.0, bad)
	run.crash()

	run = startInstance(t, stateDir, walDir, t0.Add(40*time.Second))
	events, bad = run.counts(t0.Add(40 * time.Second))
	assert.Equal(t, 130.0, events, "snapshot + journal: every accepted span, once")
	assert.Equal(t, 33.0, bad)
	assert.Equal(t, 5.0, run.journaled(contract.JournalReplayed), "only the 5 records after the snapshot were replayed")

	// A clean shutdown checkpoints and empties the journal.
	run.stop()
	run = startInstance(t, stateDir, walDir, t0.Add(50*time.Second))
	events, _ = run.counts(t0.Add(50 * time.Second))
	assert.Equal(t, 130.0, events)
	assert.Zero(t, run.journaled(contract.JournalReplayed), "nothing left to replay after a clean shutdown")
}

// TestProcessorWithoutItsConnector: the processor needs the connector of
// the same ID; Start says so.
func TestProcessorWithoutItsConnector(t *testing.T) {
	f := newFactory(time.Now)
	p, err := f.buildProcessor().CreateTraces(context.Background(), processortest.NewNopSettings(Type), &ProcessorConfig{}, consumertest.NewNop())
	require.NoError(t, err)
	err = p.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "counts into connector slo, which no pipeline uses")
	require.NoError(t, p.Shutdown(context.Background()))
}

// TestStorageMustBeAStorageExtension: a 'storage' that names no extension,
// or one that is not a storage, fails the start with what to fix.
func TestStorageMustBeAStorageExtension(t *testing.T) {
	for name, exts := range map[string]map[component.ID]component.Component{
		"absent":        {},
		"not a storage": {walID: notStorage{}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFactory(time.Now)
			cfg := testConfig(t.TempDir())
			cfg.Storage = &walID
			c, err := f.build().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, consumertest.NewNop())
			require.NoError(t, err)
			err = c.Start(context.Background(), storageHost{Host: componenttest.NewNopHost(), exts: exts})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "'storage'")
			require.NoError(t, c.Shutdown(context.Background()))
		})
	}
}

// notStorage is an extension that is not a storage extension.
type notStorage struct {
	component.StartFunc
	component.ShutdownFunc
}
