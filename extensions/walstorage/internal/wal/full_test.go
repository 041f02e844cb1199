package wal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallDisk mounts a tmpfs of size bytes for the test and unmounts it at
// cleanup. CI runs as root; so does this machine.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	require.NoError(t, os.Mkdir(dir, 0o755))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	require.NoError(t, err, "mount a tmpfs (the test needs root): %s", out)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the filesystem is full (and stays
// full: the WAL may be removing a segment meanwhile) and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "filling the disk: %v", err)
			time.Sleep(100 * time.Millisecond)
			if statfsFree(dir) == 0 {
				return path
			}
		}
	}
}

// TestFullDisk runs a queue on a 1 MiB tmpfs: puts are refused (retryably,
// with nothing written) once the reserve is reached, while reading and
// acknowledging still work; with the disk filled by someone else, a batch
// that cannot be written fails with nothing left behind; once space
// returns, puts go through again and every acknowledged item is there.
func TestFullDisk(t *testing.T) {
	disk := smallDisk(t, "1m")
	walDir := filepath.Join(disk, "wal")
	require.NoError(t, os.Mkdir(walDir, 0o755))
	rec := newRecorder()
	opts := Options{Dir: walDir, SegmentSize: 64 << 10, ReserveFree: 192 << 10, Fsync: FsyncNever, Observer: rec}
	w := open(t, opts)
	t.Cleanup(func() { w.Close() }) // before the unmount
	c := client(t, w, "exporter/otlp/traces")
	item := []byte(strings.Repeat("x", 8<<10))
	put := func(i int) error {
		return c.Batch([]Op{{Kind: OpSet, Key: "qmv0", Value: []byte(fmt.Sprint("w=", i))}, {Kind: OpSet, Key: fmt.Sprint(i), Value: item}})
	}

	var acked []int
	var full *FullError
	for i := 0; ; i++ {
		err := put(i)
		if err != nil {
			require.ErrorAs(t, err, &full, "a refusal, not an I/O error: %v", err)
			break
		}
		acked = append(acked, i)
		require.Less(t, i, 200, "a 1 MiB disk never refused")
	}
	assert.Equal(t, RefusedDiskReserve, full.Reason)
	assert.GreaterOrEqual(t, full.RetryAfter, minRetryAfter)
	assert.Contains(t, full.Error(), "free disk space")
	assert.NotEmpty(t, acked)

	// The consumer can still read and acknowledge the oldest items.
	for _, i := range acked[:len(acked)/2] {
		ops := []Op{{Kind: OpSet, Key: "qmv0", Value: []byte(fmt.Sprint("r=", i))}, {Kind: OpGet, Key: fmt.Sprint(i)}}
		require.NoError(t, c.Batch(ops), "reading item %d from a full log", i)
		require.Equal(t, item, ops[1].Value)
		require.NoError(t, c.Batch([]Op{{Kind: OpSet, Key: "qmv0", Value: []byte(fmt.Sprint("d=", i))}, {Kind: OpDelete, Key: fmt.Sprint(i)}}),
			"acknowledging item %d in a full log", i)
	}
	remaining := acked[len(acked)/2:]

	// Someone else fills the disk: a batch too big for what is left fails
	// as disk_full, and leaves no partial record.
	filler := fillDisk(t, disk)
	big := []Op{{Kind: OpSet, Key: "big", Value: make([]byte, 96<<10)}}
	w.mu.Lock()
	w.freeDisk = -1 // as if the last probe was before the filler: only the write can tell
	w.mu.Unlock()
	err := c.Batch(big)
	require.ErrorAs(t, err, &full)
	assert.Equal(t, RefusedDiskFull, full.Reason)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.Positive(t, rec.refusals[RefusedDiskFull])

	// With a little space back, the new segment can be made but the write
	// stops half-way: the partial record is taken back.
	st, err := os.Stat(filler)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(filler, st.Size()-80<<10))
	w.mu.Lock()
	w.freeDisk = -1
	w.mu.Unlock()
	require.Equal(t, int64(80<<10), statfsFree(disk))
	err = c.Batch(big)
	require.ErrorAs(t, err, &full, "a 96 KiB record on 80 KiB of free space")
	assert.Equal(t, RefusedDiskFull, full.Reason)
	w.mu.Lock()
	active := w.active
	w.mu.Unlock()
	assert.Equal(t, active.size, fileSize(t, active.path), "the partial write was truncated away")

	require.NoError(t, os.Remove(filler))
	w.refreshFree()
	eventually(t, func() bool { return put(1000) == nil }, "puts were still refused once space returned")
	require.NoError(t, w.Close())

	after := newRecorder()
	w = open(t, Options{Dir: walDir, SegmentSize: 64 << 10, Fsync: FsyncNever, Observer: after})
	t.Cleanup(func() { w.Close() })
	got := contents(t, client(t, w, "exporter/otlp/traces"))
	for _, i := range remaining {
		assert.Equal(t, string(item), got[fmt.Sprint(i)], "acknowledged item %d", i)
	}
	assert.Equal(t, string(item), got["1000"])
	assert.NotContains(t, got, "big")
	assert.Equal(t, "w=1000", got["qmv0"])
	assert.Len(t, got, len(remaining)+2)
	assert.Empty(t, after.kinds(), "no torn record was left by the failed writes")
}
