package pipeline

import (
	"testing"
	"time"
)

// BenchmarkBuild computes the pipeline view from two parsed scrapes.
func BenchmarkBuild(b *testing.B) {
	graphs := FromConfig(conf())
	prev := sample(b, "scrape1.txt", t0)
	cur := sample(b, "scrape2.txt", t0.Add(10*time.Second))
	b.ReportAllocs()
	for b.Loop() {
		_ = Build(graphs, prev, cur)
	}
}
