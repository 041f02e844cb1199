package walstorage

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// benchItemSize is one queued request: 100 spans encoded, about 16 KiB.
const benchItemSize = 16 << 10

// backend opens a storage extension in dir for a benchmark.
type backend struct {
	name string
	open func(b *testing.B, dir string) storage.Extension
}

// backends are wal_storage and the upstream file_storage (bbolt), each in
// its fsync modes, side by side in one run.
func backends() []backend {
	wal := func(fsync string) func(*testing.B, string) storage.Extension {
		return func(b *testing.B, dir string) storage.Extension {
			cfg := createDefaultConfig().(*Config)
			cfg.Directory, cfg.Fsync = dir, fsync
			return startBench(b, NewFactory(), cfg)
		}
	}
	file := func(fsync bool) func(*testing.B, string) storage.Extension {
		return func(b *testing.B, dir string) storage.Extension {
			f := filestorage.NewFactory()
			cfg := f.CreateDefaultConfig().(*filestorage.Config)
			cfg.Directory, cfg.Compaction.Directory, cfg.FSync = dir, dir, fsync
			return startBench(b, f, cfg)
		}
	}
	return []backend{
		{"wal_storage/fsync=never", wal(FsyncNever)},
		{"wal_storage/fsync=interval", wal(FsyncInterval)},
		{"file_storage/fsync=false", file(false)},
		{"wal_storage/fsync=always", wal(FsyncAlways)},
		{"file_storage/fsync=true", file(true)},
	}
}

func startBench(b *testing.B, f extension.Factory, cfg component.Config) storage.Extension {
	set := extensiontest.NewNopSettings(f.Type())
	ext, err := f.Create(context.Background(), set, cfg)
	require.NoError(b, err)
	require.NoError(b, ext.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, ext.Shutdown(context.Background())) })
	return ext.(storage.Extension)
}

// queue replays what exporterhelper's persistent queue does per request:
// put = Batch(Set meta, Set item), read = Batch(Set meta, Get item),
// done = Batch(Set meta, Delete item); the consumer lags lag items behind.
type queue struct {
	c         storage.Client
	item      []byte
	meta      []byte
	write, rd uint64
	lag       uint64
}

func newQueue(b *testing.B, ext storage.Extension, name string, lag uint64) *queue {
	c, err := ext.GetClient(context.Background(), component.KindExporter, component.MustNewID("otlp_grpc"), name)
	require.NoError(b, err)
	b.Cleanup(func() { c.Close(context.Background()) })
	item := make([]byte, benchItemSize)
	rand.New(rand.NewSource(1)).Read(item)
	return &queue{c: c, item: item, meta: make([]byte, 40), lag: lag}
}

// step puts one request and, once lag requests are queued, reads and
// acknowledges the oldest.
func (q *queue) step(b *testing.B) {
	ctx := context.Background()
	key := strconv.FormatUint(q.write, 10)
	q.write++
	q.meta[0]++
	if err := q.c.Batch(ctx, storage.SetOperation("qmv0", q.meta), storage.SetOperation(key, q.item)); err != nil {
		b.Fatal(err)
	}
	if q.write <= q.lag {
		return
	}
	key = strconv.FormatUint(q.rd, 10)
	q.rd++
	get := storage.GetOperation(key)
	if err := q.c.Batch(ctx, storage.SetOperation("qmv0", q.meta), get); err != nil || len(get.Value) != benchItemSize {
		b.Fatalf("read %s: %v (%d bytes)", key, err, len(get.Value))
	}
	if err := q.c.Batch(ctx, storage.SetOperation("qmv0", q.meta), storage.DeleteOperation(key)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQueuePattern is one request through one persistent queue (put,
// read, acknowledge: three Batch calls) per op, 16 KiB per request.
func BenchmarkQueuePattern(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			q := newQueue(b, be.open(b, b.TempDir()), "traces", 10)
			b.SetBytes(benchItemSize)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for range b.N {
				q.step(b)
			}
			cpu.report(b)
		})
	}
}

// BenchmarkQueuePatternFourQueues runs four queues of one extension at once
// (four exporters or signals), where group commit can share writes and
// fsyncs between them.
func BenchmarkQueuePatternFourQueues(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			ext := be.open(b, b.TempDir())
			queues := make([]*queue, 4)
			for i := range queues {
				queues[i] = newQueue(b, ext, fmt.Sprint("q", i), 10)
			}
			b.SetBytes(benchItemSize)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			var wg sync.WaitGroup
			for i, q := range queues {
				n := b.N / len(queues)
				if i < b.N%len(queues) {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range n {
						q.step(b)
					}
				}()
			}
			wg.Wait()
			cpu.report(b)
		})
	}
}

// cpuClock measures the process's CPU time (user + system) over a
// benchmark loop: on a shared machine it moves far less than wall time.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds cpu-ns/op: the process's CPU time per operation, background
// goroutines (fsync, removal) included.
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
