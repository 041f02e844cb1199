package walstorage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func TestStorageClientContract(t *testing.T) {
	s, _ := start(t, "", testConfig(t.TempDir()))
	c := s.client(t, component.KindExporter, "otlp_grpc", "traces")
	ctx := context.Background()

	v, err := c.Get(ctx, "absent")
	require.NoError(t, err)
	assert.Nil(t, v, "Get of an absent key is (nil, nil)")
	require.NoError(t, c.Delete(ctx, "absent"), "Delete of an absent key is a no-op")

	require.NoError(t, c.Set(ctx, "k", []byte("v1")))
	require.NoError(t, c.Set(ctx, "k", []byte("v2")), "Set overwrites")
	v, err = c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v2", string(v))

	get := storage.GetOperation("k")
	getItem := storage.GetOperation("item")
	require.NoError(t, c.Batch(ctx, storage.SetOperation("item", []byte("payload")), get, nil, getItem, storage.DeleteOperation("k")))
	assert.Equal(t, "v2", string(get.Value), "Get results are put in place")
	assert.Equal(t, "payload", string(getItem.Value), "a Get sees an earlier Set of its batch")
	v, err = c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Nil(t, v)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, c.Set(cancelled, "x", []byte("y")), context.Canceled)

	t.Run("Walk visits every key and applies what it returns", func(t *testing.T) {
		for i := range 5 {
			require.NoError(t, c.Set(ctx, fmt.Sprint("w", i), []byte{byte(i)}))
		}
		walker := c.(storage.Walker)
		var seen []string
		require.NoError(t, walker.Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
			seen = append(seen, key)
			if key == "item" {
				return []*storage.Operation{storage.DeleteOperation(key)}, nil
			}
			return nil, nil
		}))
		sort.Strings(seen)
		assert.Equal(t, []string{"item", "w0", "w1", "w2", "w3", "w4"}, seen)
		v, err := c.Get(ctx, "item")
		require.NoError(t, err)
		assert.Nil(t, v, "the walk's delete was applied")

		n := 0
		require.NoError(t, walker.Walk(ctx, func(key string, _ []byte) ([]*storage.Operation, error) {
			n++
			return []*storage.Operation{storage.DeleteOperation(key)}, storage.SkipAll
		}))
		assert.Equal(t, 1, n, "SkipAll stops the walk")
		keys := 0
		require.NoError(t, walker.Walk(ctx, func(string, []byte) ([]*storage.Operation, error) { keys++; return nil, nil }))
		assert.Equal(t, 4, keys, "and what was collected before it is applied")

		boom := errors.New("boom")
		err = walker.Walk(ctx, func(key string, _ []byte) ([]*storage.Operation, error) {
			return []*storage.Operation{storage.DeleteOperation(key)}, boom
		})
		assert.ErrorIs(t, err, boom)
		keys = 0
		require.NoError(t, walker.Walk(ctx, func(string, []byte) ([]*storage.Operation, error) { keys++; return nil, nil }))
		assert.Equal(t, 4, keys, "an error applies nothing")
	})

	require.NoError(t, c.Close(ctx))
	assert.Error(t, c.Set(ctx, "after", []byte("close")))
}

func TestComponentsAreKeptApartAndSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	s, stop := start(t, "queue", testConfig(dir))
	ctx := context.Background()
	traces := s.client(t, component.KindExporter, "otlp_grpc", "traces")
	logs := s.client(t, component.KindExporter, "otlp_grpc", "logs")
	filelog := s.client(t, component.KindReceiver, "filelog", "")
	require.NoError(t, traces.Set(ctx, "qmv0", []byte("traces meta")))
	require.NoError(t, logs.Set(ctx, "qmv0", []byte("logs meta")))
	require.NoError(t, filelog.Set(ctx, "knownFiles0", []byte("offsets")))
	stop()

	s, _ = start(t, "queue", testConfig(dir))
	for _, tc := range []struct {
		kind                component.Kind
		id, name, key, want string
	}{
		{component.KindExporter, "otlp_grpc", "traces", "qmv0", "traces meta"},
		{component.KindExporter, "otlp_grpc", "logs", "qmv0", "logs meta"},
		{component.KindReceiver, "filelog", "", "knownFiles0", "offsets"},
		{component.KindExporter, "otlp_grpc/other", "traces", "qmv0", ""},
	} {
		v, err := s.client(t, tc.kind, tc.id, tc.name).Get(ctx, tc.key)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(v), "%s %s %s", tc.kind, tc.id, tc.name)
	}
}

func TestMetrics(t *testing.T) {
	s, _ := start(t, "queue", testConfig(t.TempDir()))
	ctx := context.Background()
	c := s.client(t, component.KindExporter, "otlp_grpc", "traces")
	for i := range 10 {
		require.NoError(t, c.Batch(ctx, storage.SetOperation("qmv0", []byte{byte(i)}), storage.SetOperation(fmt.Sprint(i), make([]byte, 1000))))
	}
	require.NoError(t, c.Delete(ctx, "0"))

	storageLabel := "storage=wal_storage/queue,"
	assert.Equal(t, map[string]int64{storageLabel: 10}, metricValues(t, s.reader, metricLiveRecords, labelStorage), "qmv0 and items 1-9")
	assert.Equal(t, map[string]int64{storageLabel: 12}, metricValues(t, s.reader, metricBatches, labelStorage), "10 puts, a delete and the registration of the client")
	assert.Positive(t, metricValues(t, s.reader, metricLiveBytes, labelStorage)[storageLabel])
	assert.Positive(t, metricValues(t, s.reader, metricDiskBytes, labelStorage)[storageLabel])
	assert.Equal(t, int64(1), metricValues(t, s.reader, metricSegments, labelStorage)[storageLabel])
	assert.GreaterOrEqual(t, metricValues(t, s.reader, metricWrites, labelStorage)[storageLabel], int64(11))
	assert.GreaterOrEqual(t, histogramCount(t, s.reader, metricWriteDuration), uint64(11))
}

// TestDamageIsCountedAndLoggedOnce: a queue's file cut mid-record and
// garbled after a crash. The extension starts, keeps the intact items,
// counts and logs each damaged place once, and the next start is quiet.
func TestDamageIsCountedAndLoggedOnce(t *testing.T) {
	dir := t.TempDir()
	s, stop := start(t, "queue", testConfig(dir))
	ctx := context.Background()
	c := s.client(t, component.KindExporter, "otlp_grpc", "traces")
	for i := range 20 {
		require.NoError(t, c.Batch(ctx, storage.SetOperation("qmv0", []byte{byte(i)}), storage.SetOperation(fmt.Sprint(i), make([]byte, 1000))))
	}
	stop()
	files, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff                                               // garble a record in the middle
	require.NoError(t, os.WriteFile(files[0], data[:len(data)-300], 0o600)) // and cut the last one

	s, stop = start(t, "queue", testConfig(dir))
	c = s.client(t, component.KindExporter, "otlp_grpc", "traces")
	present := 0
	for i := range 20 {
		v, err := c.Get(ctx, fmt.Sprint(i))
		require.NoError(t, err)
		if v != nil {
			present++
		}
	}
	assert.Equal(t, 18, present, "all but the garbled and the cut item")
	assert.Equal(t, map[string]int64{"kind=bad_checksum,": 1, "kind=torn_tail,": 1}, nonZero(metricValues(t, s.reader, metricCorruptions, labelKind)))
	assert.Equal(t, int64(4), metricValues(t, s.reader, metricDropped)[""], "two records (meta and item) per damaged put")
	warnings := s.logs.FilterMessage("WAL storage found damage on start and repaired it")
	assert.Equal(t, 2, warnings.Len(), "one line per damaged place")
	stop()

	s, _ = start(t, "queue", testConfig(dir))
	assert.Empty(t, nonZero(metricValues(t, s.reader, metricCorruptions, labelKind)), "repaired: nothing to report on the next start")
	assert.Zero(t, s.logs.FilterMessage("WAL storage found damage on start and repaired it").Len())
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestStartFailsOnlyWhenTheDirectoryIsUnusable(t *testing.T) {
	t.Run("a directory that is a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		cfg := testConfig(path)
		ext, err := NewFactory().Create(context.Background(), extensionSettings(), cfg)
		require.NoError(t, err)
		err = ext.Start(context.Background(), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		require.NoError(t, ext.Shutdown(context.Background()))
	})
	t.Run("a directory another process (or instance) holds", func(t *testing.T) {
		dir := t.TempDir()
		start(t, "first", testConfig(dir))
		ext, err := NewFactory().Create(context.Background(), extensionSettings(), testConfig(dir))
		require.NoError(t, err)
		err = ext.Start(context.Background(), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "in use by another process")
		require.NoError(t, ext.Shutdown(context.Background()))
	})
}
