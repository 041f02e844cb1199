package slo

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// BenchmarkJournal is what "acknowledged means counted" costs a request
// of 100 spans against 100 span SLOs, through the slo processor in front
// of a persistent queue's put and acknowledgement on wal_storage (fsync
// never; 16 KiB items, as 100 encoded spans): "no journal" counts without
// 'storage', "journal" commits each request's record in the put's batch.
// The difference is the journal's cost (encoding the record, the bytes it
// adds to the write, the piggyback, the truncation at snapshots).
func BenchmarkJournal(b *testing.B) {
	for _, journaled := range []bool{false, true} {
		name := "no journal"
		if journaled {
			name = "journal"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			wal := walStorage(b, b.TempDir())
			defer func() { require.NoError(b, wal.Shutdown(ctx)) }()
			host := storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{walID: wal}}
			queue, err := wal.(storage.Extension).GetClient(ctx, component.KindExporter, component.MustNewID("otlp_grpc"), "traces")
			require.NoError(b, err)
			item, meta := make([]byte, 16<<10), make([]byte, 40)
			var n int
			next, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
				key := strconv.Itoa(n)
				n++
				// The queue's put (which carries the journal record) and,
				// as its consumer keeps up, the acknowledgement.
				if err := queue.Batch(ctx, storage.SetOperation("meta", meta), storage.SetOperation(key, item)); err != nil {
					return err
				}
				return queue.Batch(context.Background(), storage.SetOperation("meta", meta), storage.DeleteOperation(key))
			})
			require.NoError(b, err)

			f := newFactory((&clock{now: t0}).Now)
			cfg := testConfig(b.TempDir())
			cfg.SLOs = []string{hundredSLOFile(b, "{spans: {route: '/r/%[2]d', bad: {http_5xx: true}}}")}
			if journaled {
				cfg.Storage = &walID
			}
			cset, pset := connectortest.NewNopSettings(Type), processortest.NewNopSettings(Type)
			cset.ID, pset.ID = component.NewID(Type), component.NewID(Type)
			conn, err := f.build().CreateTracesToMetrics(ctx, cset, cfg, consumertest.NewNop())
			require.NoError(b, err)
			proc, err := f.buildProcessor().CreateTraces(ctx, pset, &ProcessorConfig{}, next)
			require.NoError(b, err)
			require.NoError(b, conn.Start(ctx, host))
			require.NoError(b, proc.Start(ctx, host))
			defer func() {
				require.NoError(b, proc.Shutdown(ctx))
				require.NoError(b, conn.Shutdown(ctx))
				require.NoError(b, queue.Close(ctx))
			}()

			var spans []spanSpec
			for i := range 100 {
				spans = append(spans, spanSpec{svc: fmt.Sprintf("svc-%d", i%10), name: "GET", route: fmt.Sprintf("/r/%d", i/10),
					kind: ptrace.SpanKindServer, end: t0.Add(time.Second), status: 200})
			}
			td := traces(spans...)
			r, _ := f.runners.Get(component.NewID(Type))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ {
				if err := proc.ConsumeTraces(ctx, td); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 {
					r.snapshot() // every 1,000 requests: a checkpoint truncates the journal
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N*100), "cpu-ns/span")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/span")
		})
	}
}

// processCPU is the process's CPU time (user and system), background
// goroutines included: a shared machine moves it far less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
