package wal

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeysSurviveReopen(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, c *Client)
		want  map[string]string
	}{
		{
			name:  "a set key is there after a restart",
			write: func(t *testing.T, c *Client) { set(t, c, "a", "1") },
			want:  map[string]string{"a": "1"},
		},
		{
			name: "the last of several overwrites wins",
			write: func(t *testing.T, c *Client) {
				set(t, c, "a", "1")
				set(t, c, "a", "2")
				set(t, c, "a", "3")
			},
			want: map[string]string{"a": "3"},
		},
		{
			name: "a deleted key stays deleted",
			write: func(t *testing.T, c *Client) {
				set(t, c, "a", "1")
				set(t, c, "b", "2")
				del(t, c, "a")
			},
			want: map[string]string{"b": "2"},
		},
		{
			name: "a key set again after its delete has its new value",
			write: func(t *testing.T, c *Client) {
				set(t, c, "a", "1")
				del(t, c, "a")
				set(t, c, "a", "again")
			},
			want: map[string]string{"a": "again"},
		},
		{
			name: "an empty value is a value, not an absent key",
			write: func(t *testing.T, c *Client) {
				require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: "empty", Value: []byte{}}}))
			},
			want: map[string]string{"empty": ""},
		},
		{
			name: "deleting an absent key is a no-op",
			write: func(t *testing.T, c *Client) {
				del(t, c, "never")
				set(t, c, "a", "1")
			},
			want: map[string]string{"a": "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := open(t, testOptions(dir, nil))
			tt.write(t, client(t, w, "q"))
			assert.Equal(t, tt.want, contents(t, client(t, w, "q")), "before the restart")
			require.NoError(t, w.Close())

			rec := newRecorder()
			w = open(t, testOptions(dir, rec))
			defer w.Close()
			assert.Equal(t, tt.want, contents(t, client(t, w, "q")), "after the restart")
			assert.Empty(t, rec.kinds(), "a clean log reports no damage")
		})
	}
}

func TestClientsAreKeptApart(t *testing.T) {
	dir := t.TempDir()
	w := open(t, testOptions(dir, nil))
	a, b := client(t, w, "exporter/otlp/traces"), client(t, w, "exporter/otlp/logs")
	set(t, a, "0", "span batch")
	set(t, b, "0", "log batch")
	del(t, a, "1")
	require.NoError(t, w.Close())

	w = open(t, testOptions(dir, nil))
	defer w.Close()
	v, err := client(t, w, "exporter/otlp/traces").Get("0")
	require.NoError(t, err)
	assert.Equal(t, "span batch", string(v))
	v, err = client(t, w, "exporter/otlp/logs").Get("0")
	require.NoError(t, err)
	assert.Equal(t, "log batch", string(v))
	v, err = client(t, w, "receiver/filelog").Get("0")
	require.NoError(t, err)
	assert.Nil(t, v, "a new client sees none of the others' keys")
}

func TestBatchSemantics(t *testing.T) {
	w := open(t, testOptions(t.TempDir(), nil))
	defer w.Close()
	c := client(t, w, "q")
	set(t, c, "meta", "v1")

	ops := []Op{
		{Kind: OpGet, Key: "meta"},
		{Kind: OpSet, Key: "meta", Value: []byte("v2")},
		{Kind: OpGet, Key: "meta"},
		{Kind: OpSet, Key: "item", Value: []byte("x")},
		{Kind: OpDelete, Key: "item"},
		{Kind: OpGet, Key: "item"},
		{Kind: OpGet, Key: "absent"},
	}
	require.NoError(t, c.Batch(ops))
	assert.Equal(t, "v1", string(ops[0].Value), "a get before a set in the batch reads the old value")
	assert.Equal(t, "v2", string(ops[2].Value), "a get after a set in the batch reads the new value")
	assert.Nil(t, ops[5].Value, "a get after a delete in the batch reads nothing")
	assert.Nil(t, ops[6].Value, "an absent key reads nil")
	assert.Equal(t, map[string]string{"meta": "v2"}, contents(t, c))

	got := ops[2].Value
	got[0] = 'X'
	v, err := c.Get("meta")
	require.NoError(t, err)
	assert.Equal(t, "v2", string(v), "the caller owns what Get returns")

	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Batch([]Op{{Kind: OpGet, Key: "meta"}}), ErrClientClosed)
}

// TestGroupCommit holds the first writer inside its write, lets ten more
// batches of three clients arrive meanwhile, and checks that they were
// written together: one write and, with fsync always, one fsync.
func TestGroupCommit(t *testing.T) {
	w := open(t, Options{Dir: t.TempDir(), SegmentSize: 1 << 20, Fsync: FsyncAlways})
	defer w.Close()
	clients := []*Client{client(t, w, "a"), client(t, w, "b"), client(t, w, "c")}
	groups0, batches0, syncs0, _, _ := w.Counters()

	inWrite, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.mu.Lock()
	w.testHookWrite = func() {
		once.Do(func() {
			close(inWrite)
			<-release
		})
	}
	w.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		set(t, clients[0], "first", "1")
	}()
	<-inWrite
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%3]
			require.NoError(t, c.Batch([]Op{
				{Kind: OpSet, Key: "meta", Value: []byte(fmt.Sprint(i))},
				{Kind: OpSet, Key: fmt.Sprint("item", i), Value: []byte("payload")},
			}))
		}()
	}
	eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.filling.batches == 10
	}, "the ten batches did not queue behind the writing leader")
	close(release)
	wg.Wait()

	groups, batches, syncs, _, _ := w.Counters()
	assert.Equal(t, int64(11), batches-batches0)
	assert.Equal(t, int64(2), groups-groups0, "the ten waiting batches were written in one group")
	assert.Equal(t, int64(2), syncs-syncs0, "one fsync per group")
	total := 0
	for _, c := range clients {
		total += len(contents(t, c))
	}
	assert.Equal(t, 1+10+3, total, "every batch was applied (3 meta keys, 10 items, first)")
}

// TestQueuePatternRemovesSegments drives the persistent queue's pattern
// (put: meta+item; read: meta+get; done: meta+delete) through many
// segments and checks that the files of consumed items go, and that the
// queue's remaining state survives a restart.
func TestQueuePatternRemovesSegments(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	w := open(t, Options{Dir: dir, SegmentSize: 16 << 10, Fsync: FsyncInterval, FsyncInterval: 10 * time.Millisecond, Observer: rec})
	c := client(t, w, "exporter/otlp/traces")
	payload := strings.Repeat("p", 1000)
	const n = 500
	for i := range n {
		meta := []byte(fmt.Sprintf("w=%d", i+1))
		require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: "qmv0", Value: meta}, {Kind: OpSet, Key: fmt.Sprint(i), Value: []byte(payload)}}))
		if i >= 10 { // the consumer lags 10 items behind
			j := i - 10
			ops := []Op{{Kind: OpSet, Key: "qmv0", Value: meta}, {Kind: OpGet, Key: fmt.Sprint(j)}}
			require.NoError(t, c.Batch(ops))
			require.Equal(t, payload, string(ops[1].Value))
			require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: "qmv0", Value: meta}, {Kind: OpDelete, Key: fmt.Sprint(j)}}))
		}
	}
	eventually(t, func() bool { return w.Stats().DiskBytes < 4*16<<10 }, "consumed segments were not removed")
	st := w.Stats()
	assert.Greater(t, rec.removedCount(), 20)
	assert.LessOrEqual(t, st.Segments, 4, "only the last few segments remain: %+v", st)
	assert.Equal(t, int64(11), st.LiveRecords, "meta and 10 queued items are live")
	require.NoError(t, w.Close())

	w = open(t, testOptions(dir, nil))
	defer w.Close()
	got := contents(t, client(t, w, "exporter/otlp/traces"))
	assert.Len(t, got, 11)
	assert.Equal(t, fmt.Sprintf("w=%d", n), got["qmv0"])
	for j := n - 10; j < n; j++ {
		assert.Equal(t, payload, got[fmt.Sprint(j)], "item %d", j)
	}
}

// TestTombstoneOutlivesTheRecordItHides: a key written in an old segment
// that stays (something else in it is live) and deleted in a newer segment
// that is otherwise dead. The newer segment must not go before the old
// one, or the key would come back on the next start.
func TestTombstoneOutlivesTheRecordItHides(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	opts := Options{Dir: dir, SegmentSize: 4 << 10, Fsync: FsyncNever, Observer: rec}
	w := open(t, opts)
	c := client(t, w, "q")
	set(t, c, "pinned", "stays live")
	set(t, c, "doomed", "deleted later")
	fill := strings.Repeat("f", 1000)
	for i := range 8 { // roll to newer segments
		set(t, c, fmt.Sprint("fill", i), fill)
	}
	del(t, c, "doomed")
	for i := range 8 { // the tombstone's segment dies: every fill key goes
		del(t, c, fmt.Sprint("fill", i))
	}
	for i := range 8 { // and more segments after it
		set(t, c, fmt.Sprint("late", i), fill)
		del(t, c, fmt.Sprint("late", i))
	}
	eventually(t, func() bool { return rec.removedCount() > 0 }, "no segment removed")
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, w.Close())

	w = open(t, opts)
	defer w.Close()
	assert.Equal(t, map[string]string{"pinned": "stays live"}, contents(t, client(t, w, "q")),
		"the deleted key did not come back")
}

func TestCompactionFreesStagnantSegments(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	opts := Options{Dir: dir, SegmentSize: 8 << 10, Fsync: FsyncNever, Observer: rec,
		Compaction: CompactionOptions{Interval: 20 * time.Millisecond, MaxLiveRatio: 0.5, MaxBytesPerPass: 1 << 20, MaxDurationPerPass: time.Second}}
	w := open(t, opts)
	c := client(t, w, "filelog")
	fill := strings.Repeat("f", 1000)
	// Each segment keeps one small live key among dead fill.
	for s := range 6 {
		set(t, c, fmt.Sprint("checkpoint", s), fmt.Sprint("offset ", s))
		for i := range 10 {
			set(t, c, fmt.Sprint("fill", s, "-", i), fill)
			del(t, c, fmt.Sprint("fill", s, "-", i))
		}
	}
	eventually(t, func() bool { return len(segmentFiles(t, dir)) <= 2 }, "stagnant segments were not compacted away")
	_, _, _, compactions, _ := w.Counters()
	assert.Positive(t, compactions)
	require.NoError(t, w.Close())

	w = open(t, opts)
	defer w.Close()
	got := contents(t, client(t, w, "filelog"))
	for s := range 6 {
		assert.Equal(t, fmt.Sprint("offset ", s), got[fmt.Sprint("checkpoint", s)])
	}
	assert.Len(t, got, 6)
}

func TestMaxSizeRefusesOnlyNewKeys(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	opts := Options{Dir: dir, SegmentSize: 8 << 10, MaxSize: 32 << 10, Fsync: FsyncNever, Observer: rec}
	w := open(t, opts)
	defer w.Close()
	c := client(t, w, "q")
	item := []byte(strings.Repeat("i", 1000))
	var acked []string
	var full *FullError
	for i := 0; ; i++ {
		err := c.Batch([]Op{{Kind: OpSet, Key: "meta", Value: []byte(fmt.Sprint(i))}, {Kind: OpSet, Key: fmt.Sprint(i), Value: item}})
		if err != nil {
			require.ErrorAs(t, err, &full)
			break
		}
		acked = append(acked, fmt.Sprint(i))
		require.Less(t, i, 100, "never refused")
	}
	assert.ErrorIs(t, full, ErrFull)
	assert.Equal(t, RefusedMaxSize, full.Reason)
	assert.GreaterOrEqual(t, full.RetryAfter, time.Second)
	assert.Contains(t, full.Error(), "max_size")
	assert.Equal(t, 1, rec.refusals[RefusedMaxSize])
	assert.Len(t, contents(t, c), len(acked)+1, "the refused batch left nothing behind")

	// What drains the queue still works when full: reading (meta+get) and
	// acknowledging (meta+delete).
	for _, k := range acked {
		ops := []Op{{Kind: OpSet, Key: "meta", Value: []byte("r" + k)}, {Kind: OpGet, Key: k}}
		require.NoError(t, c.Batch(ops))
		require.Equal(t, item, ops[1].Value)
		require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: "meta", Value: []byte("d" + k)}, {Kind: OpDelete, Key: k}}))
	}
	eventually(t, func() bool {
		return c.Batch([]Op{{Kind: OpSet, Key: "new", Value: item}}) == nil
	}, "space did not come back once the queue drained")
}

// TestIntervalModeRemovesOnlyAfterAnFsync: with fsync interval, a dead
// segment is deleted only after an fsync covering the records that made it
// dead, or a node crash could lose both the old value and the new one.
// With fsync never it goes at once (never promises nothing on a node crash).
func TestIntervalModeRemovesOnlyAfterAnFsync(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     func(dir string, obs Observer) Options
		removed  bool
		syncsMin int64
		noSync   bool
	}{
		{"fsync never: at once, without an fsync", func(dir string, obs Observer) Options {
			return Options{Dir: dir, SegmentSize: 4 << 10, Fsync: FsyncNever, Observer: obs}
		}, true, 0, true},
		{"fsync interval (1h): not before the next fsync", func(dir string, obs Observer) Options {
			return Options{Dir: dir, SegmentSize: 4 << 10, Fsync: FsyncInterval, FsyncInterval: time.Hour, Observer: obs}
		}, false, 0, false},
		{"fsync interval (20ms): after it", func(dir string, obs Observer) Options {
			return Options{Dir: dir, SegmentSize: 4 << 10, Fsync: FsyncInterval, FsyncInterval: 20 * time.Millisecond, Observer: obs}
		}, true, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			w := open(t, tc.opts(t.TempDir(), rec))
			defer w.Close()
			c := client(t, w, "q")
			fill := strings.Repeat("f", 1000)
			for i := range 12 {
				set(t, c, fmt.Sprint(i), fill)
			}
			for i := range 12 {
				del(t, c, fmt.Sprint(i))
			}
			time.Sleep(300 * time.Millisecond)
			_, _, syncs, _, _ := w.Counters()
			assert.Equal(t, tc.removed, rec.removedCount() > 0, "segments removed: %d", rec.removedCount())
			assert.GreaterOrEqual(t, syncs, tc.syncsMin)
			if tc.noSync {
				assert.Zero(t, syncs, "never fsyncs")
			}
		})
	}
}
