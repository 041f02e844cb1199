package k8smeta

import (
	"bytes"
	"context"
	"os"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/processors/k8smeta/internal/pods"
)

// BenchmarkProcessTraces enriches a request of 100 resources from one pod,
// found by its connection, with a loaded cache. The pdata is rebuilt
// outside the timer: attribute writes on fresh resources are what a real
// request costs.
func BenchmarkProcessTraces(b *testing.B) {
	for _, bc := range []struct {
		name  string
		ctx   context.Context
		fresh bool
	}{
		{"hit by connection, attributes written", peer(tcp("10.244.1.17")), true},
		{"hit by connection, attributes already present", peer(tcp("10.244.1.17")), false},
		{"miss", peer(tcp("10.99.0.1")), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := benchProcessor(b)
			td := ptrace.NewTraces()
			for range 100 {
				td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			}
			if !bc.fresh {
				_, _ = p.processTraces(bc.ctx, td)
			}
			b.ReportAllocs()
			for b.Loop() {
				if bc.fresh {
					b.StopTimer()
					for i := 0; i < td.ResourceSpans().Len(); i++ {
						td.ResourceSpans().At(i).Resource().Attributes().Clear()
					}
					b.StartTimer()
				}
				if _, err := p.processTraces(bc.ctx, td); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/resource")
		})
	}
}

func benchProcessor(b *testing.B) *k8sProcessor {
	b.Helper()
	data, err := os.ReadFile(recordedPodList)
	if err != nil {
		b.Fatal(err)
	}
	x, err := pods.Decode(bytes.NewReader(data), 1000)
	if err != nil {
		b.Fatal(err)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = "node-a"
	src, err := newSource(cfg, componenttest.NewNopTelemetrySettings())
	if err != nil {
		b.Fatal(err)
	}
	src.index.Store(x)
	return newProcessor(cfg, src, "traces")
}
