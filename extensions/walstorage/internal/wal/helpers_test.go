package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu          sync.Mutex
	corruptions []Corruption
	refusals    map[RefusalReason]int
	failures    []string
	removed     int
	compacted   int64
	writes      int
}

var _ Observer = (*recorder)(nil)

func newRecorder() *recorder { return &recorder{refusals: map[RefusalReason]int{}} }

func (r *recorder) Wrote(time.Duration, int, int) { r.mu.Lock(); r.writes++; r.mu.Unlock() }
func (r *recorder) Synced(time.Duration)          {}
func (r *recorder) Corrupted(c Corruption) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corruptions = append(r.corruptions, c)
}
func (r *recorder) Compacted(n int64) { r.mu.Lock(); r.compacted += n; r.mu.Unlock() }
func (r *recorder) SegmentRemoved()   { r.mu.Lock(); r.removed++; r.mu.Unlock() }
func (r *recorder) Refused(reason RefusalReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refusals[reason]++
}
func (r *recorder) Failed(op string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf("%s: %v", op, err))
}

// kinds is how many damaged places of each kind were reported.
func (r *recorder) kinds() map[CorruptionKind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[CorruptionKind]int{}
	for _, c := range r.corruptions {
		out[c.Kind] += c.Count
	}
	return out
}

func (r *recorder) removedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removed
}

// testOptions are small segments, no fsync, no compaction.
func testOptions(dir string, obs Observer) Options {
	return Options{Dir: dir, SegmentSize: 64 << 10, Fsync: FsyncNever, Observer: obs}
}

func open(t testing.TB, opts Options) *WAL {
	t.Helper()
	w, err := Open(opts)
	require.NoError(t, err)
	return w
}

func client(t testing.TB, w *WAL, name string) *Client {
	t.Helper()
	c, err := w.Client(name)
	require.NoError(t, err)
	return c
}

func set(t testing.TB, c *Client, key, value string) {
	t.Helper()
	require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: key, Value: []byte(value)}}))
}

func del(t testing.TB, c *Client, key string) {
	t.Helper()
	require.NoError(t, c.Batch([]Op{{Kind: OpDelete, Key: key}}))
}

// contents is every key and value of a client.
func contents(t testing.TB, c *Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, c.Walk(func(k string, v []byte) error {
		out[k] = string(v)
		return nil
	}))
	return out
}

// segmentFiles lists the segment files of dir, oldest first.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Size()
}

// eventually polls cond for up to 10s.
func eventually(t testing.TB, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal(msg)
}
