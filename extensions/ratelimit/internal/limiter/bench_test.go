package limiter

import (
	"fmt"
	"testing"
)

// BenchmarkAllow measures the Allow path over many known keys, with a global
// bucket, and the eviction path when the key space exceeds the table.
func BenchmarkAllow(b *testing.B) {
	for _, bc := range []struct {
		name          string
		keys, maxKeys int
	}{
		{"10k_keys_in_table", 10_000, 10_000},
		{"100k_keys_table_10k_evicting", 100_000, 10_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := New(Config{Default: Limit{Rate: 1e6, Burst: 1e6}, Global: &Limit{Rate: 1e9, Burst: 1e9},
				MaxKeys: bc.maxKeys, MaxLabels: 100})
			if err != nil {
				b.Fatal(err)
			}
			keys := make([]string, bc.keys)
			for i := range keys {
				keys[i] = fmt.Sprintf("tenant-%d", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				l.Allow(keys[i%len(keys)])
				i++
			}
		})
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l, err := New(Config{Default: Limit{Rate: 1e6, Burst: 1e6}, MaxKeys: 10_000, MaxLabels: 100})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("tenant-%d", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
}
