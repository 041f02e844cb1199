package wal

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkOpen measures recovery: reading, checking and indexing a log of
// 64 MiB (4096 queued requests of 16 KiB with their metadata) at start.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	opts := Options{Dir: dir, SegmentSize: 8 << 20, Fsync: FsyncNever}
	w, err := Open(opts)
	require.NoError(b, err)
	c, err := w.Client("exporter/otlp_grpc/traces")
	require.NoError(b, err)
	item := make([]byte, 16<<10)
	const items = 4096
	for i := range items {
		require.NoError(b, c.Batch([]Op{{Kind: OpSet, Key: "qmv0", Value: []byte(fmt.Sprint(i))}, {Kind: OpSet, Key: fmt.Sprint(i), Value: item}}))
	}
	require.NoError(b, w.Close())
	b.SetBytes(items * (16<<10 + 64))
	b.ResetTimer()
	for range b.N {
		w, err := Open(opts)
		if err != nil {
			b.Fatal(err)
		}
		if st := w.Stats(); st.LiveRecords != items+1 {
			b.Fatalf("recovered %d records", st.LiveRecords)
		}
		b.StopTimer()
		require.NoError(b, w.Close())
		b.StartTimer()
	}
}
