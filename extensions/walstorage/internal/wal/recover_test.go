package wal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawRecord is a record as a test reads it from a pristine file, without
// the package's parser.
type rawRecord struct {
	off, size int
	flags     byte
	key       string
}

// rawRecords decodes a pristine segment file record by record.
func rawRecords(t testing.TB, data []byte) []rawRecord {
	t.Helper()
	require.Equal(t, segmentMagic, string(data[:8]))
	var out []rawRecord
	for off := 8; off < len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		body := data[off+12 : off+12+n]
		_, k1 := binary.Uvarint(body[1:])
		kl, k2 := binary.Uvarint(body[1+k1:])
		key := string(body[1+k1+k2 : 1+k1+k2+int(kl)])
		out = append(out, rawRecord{off: off, size: 12 + n, flags: body[0], key: key})
		off += 12 + n
	}
	return out
}

// queueLog writes n puts of the persistent queue (meta, then item i) into
// a fresh log in dir and returns the path of its single data segment.
func queueLog(t *testing.T, dir string, n int) string {
	t.Helper()
	w := open(t, Options{Dir: dir, SegmentSize: 1 << 20, Fsync: FsyncNever})
	c := client(t, w, "q")
	for i := range n {
		require.NoError(t, c.Batch([]Op{
			{Kind: OpSet, Key: "meta", Value: []byte(fmt.Sprint("w=", i+1))},
			{Kind: OpSet, Key: fmt.Sprint(i), Value: []byte(strings.Repeat(string(rune('a'+i%26)), 500))},
		}))
	}
	require.NoError(t, w.Close())
	files := segmentFiles(t, dir)
	require.Len(t, files, 1)
	return files[0]
}

// want is the queue state after puts 0..n-1 except the lost ones.
func want(n int, lost ...int) map[string]string {
	out := map[string]string{}
	last := -1
	for i := range n {
		skip := false
		for _, l := range lost {
			skip = skip || l == i
		}
		if skip {
			continue
		}
		out[fmt.Sprint(i)] = strings.Repeat(string(rune('a'+i%26)), 500)
		last = i
	}
	if last >= 0 {
		out["meta"] = fmt.Sprint("w=", last+1)
	}
	return out
}

// summary shortens a queue state for readable diffs: each value becomes
// its first byte and length.
func summary(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(v) > 8 {
			v = fmt.Sprintf("%c×%d", v[0], len(v))
		}
		out[k] = v
	}
	return out
}

// lose is a fixed list of lost puts.
func lose(puts ...int) func(*testing.T, []byte) []int {
	return func(*testing.T, []byte) []int { return puts }
}

// everything is every put of TestRecovery's log.
var everything = func() []int {
	out := make([]int, 20)
	for i := range out {
		out[i] = i
	}
	return out
}()

// itemRecord is the record of put i's item in a queueLog segment (records:
// client definition, then meta and item per put).
func itemRecord(t *testing.T, data []byte, i int) rawRecord {
	recs := rawRecords(t, data)
	require.Equal(t, kindClient, recs[0].flags&kindMask)
	r := recs[2+2*i]
	require.Equal(t, fmt.Sprint(i), r.key)
	return r
}

func TestRecovery(t *testing.T) {
	const n = 20
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, data []byte)
		// lost are the puts the damage loses, given the pristine file.
		lost  func(t *testing.T, data []byte) []int
		kinds map[CorruptionKind]int
	}{
		{
			name:   "a clean log reports nothing",
			damage: func(*testing.T, string, []byte) {},
		},
		{
			name: "a torn tail (the last record cut in half) is truncated, losing only the last batch",
			damage: func(t *testing.T, path string, data []byte) {
				r := itemRecord(t, data, n-1)
				require.NoError(t, os.Truncate(path, int64(r.off+r.size/2)))
			},
			lost:  lose(n - 1),
			kinds: map[CorruptionKind]int{TornTail: 1},
		},
		{
			name: "a batch cut between its records is dropped whole: the meta of the last put is not applied",
			damage: func(t *testing.T, path string, data []byte) {
				require.NoError(t, os.Truncate(path, int64(itemRecord(t, data, n-1).off)))
			},
			lost:  lose(n - 1),
			kinds: map[CorruptionKind]int{TornTail: 1},
		},
		{
			name: "a cut inside a record header is a torn tail",
			damage: func(t *testing.T, path string, data []byte) {
				require.NoError(t, os.Truncate(path, int64(itemRecord(t, data, n-1).off+5)))
			},
			lost:  lose(n - 1),
			kinds: map[CorruptionKind]int{TornTail: 1},
		},
		{
			name: "a flipped bit in a value skips that batch only",
			damage: func(t *testing.T, path string, data []byte) {
				r := itemRecord(t, data, 7)
				flip(t, path, r.off+r.size-100, 0x10)
			},
			lost:  lose(7),
			kinds: map[CorruptionKind]int{BadChecksum: 1},
		},
		{
			name: "a flipped bit in a record's length is caught by the header checksum and skipped over",
			damage: func(t *testing.T, path string, data []byte) {
				flip(t, path, itemRecord(t, data, 3).off+1, 0x01)
			},
			lost:  lose(3),
			kinds: map[CorruptionKind]int{BadHeader: 1},
		},
		{
			name: "flipped bits in three batches lose those three",
			damage: func(t *testing.T, path string, data []byte) {
				for _, i := range []int{2, 9, 15} {
					r := itemRecord(t, data, i)
					flip(t, path, r.off+r.size-1, 0x80)
				}
			},
			lost:  lose(2, 9, 15),
			kinds: map[CorruptionKind]int{BadChecksum: 3},
		},
		{
			name: "a zeroed page in the middle loses the batches it touches",
			damage: func(t *testing.T, path string, data []byte) {
				zero(t, path, 4096, 4096)
			},
			lost: func(t *testing.T, data []byte) []int { return batchesTouching(t, data, 4096, 8192) },
			// The page starts inside a record (its body fails its checksum)
			// and ends inside another (no header until the next record).
			kinds: map[CorruptionKind]int{BadChecksum: 1, BadHeader: 1},
		},
		{
			name: "a zeroed last page is a torn tail",
			damage: func(t *testing.T, path string, data []byte) {
				zero(t, path, len(data)-600, 600)
			},
			lost: func(t *testing.T, data []byte) []int { return batchesTouching(t, data, len(data)-600, len(data)) },
			// A record whose header is before the zeroes, then no header at all.
			kinds: map[CorruptionKind]int{BadChecksum: 1, TornTail: 1},
		},
		{
			name: "garbage appended after the last record is a torn tail",
			damage: func(t *testing.T, path string, data []byte) {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				require.NoError(t, err)
				_, err = f.Write([]byte(strings.Repeat("\xde\xad\xbe\xef", 100)))
				require.NoError(t, err)
				require.NoError(t, f.Close())
			},
			kinds: map[CorruptionKind]int{TornTail: 1},
		},
		{
			name: "a segment without the magic is moved aside and the others are read",
			damage: func(t *testing.T, path string, data []byte) {
				zero(t, path, 0, 8)
			},
			lost:  lose(everything...),
			kinds: map[CorruptionKind]int{UnreadableSegment: 1},
		},
		{
			name: "a segment created just before a crash (shorter than its header) is removed",
			damage: func(t *testing.T, path string, data []byte) {
				next := filepath.Join(filepath.Dir(path), segmentName(99))
				require.NoError(t, os.WriteFile(next, []byte(segmentMagic[:3]), 0o600))
			},
			kinds: map[CorruptionKind]int{TornTail: 1},
		},
		{
			name: "a client whose definition is damaged loses its keys, counted",
			damage: func(t *testing.T, path string, data []byte) {
				r := rawRecords(t, data)[0]
				flip(t, path, r.off+r.size-1, 0x02)
			},
			lost:  lose(everything...),
			kinds: map[CorruptionKind]int{BadChecksum: 1, UnknownClient: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := queueLog(t, dir, n)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			tt.damage(t, path, data)
			var lost []int
			if tt.lost != nil {
				lost = tt.lost(t, data)
			}
			wantState := want(n, lost...)
			if len(lost) == n {
				wantState = map[string]string{}
			}

			rec := newRecorder()
			w := open(t, testOptions(dir, rec))
			assert.Equal(t, summary(wantState), summary(contents(t, client(t, w, "q"))))
			wantKinds := tt.kinds
			if wantKinds == nil {
				wantKinds = map[CorruptionKind]int{}
			}
			assert.Equal(t, wantKinds, rec.kinds())
			require.NoError(t, w.Close())

			again := newRecorder()
			w = open(t, testOptions(dir, again))
			defer w.Close()
			assert.Equal(t, summary(wantState), summary(contents(t, client(t, w, "q"))), "the same state on the next start")
			assert.Empty(t, again.kinds(), "damage is repaired, so reported once only")
		})
	}
}

func TestRecoveryMovesAsideAndKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	w := open(t, Options{Dir: dir, SegmentSize: 4 << 10, Fsync: FsyncNever})
	c := client(t, w, "q")
	for i := range 30 {
		set(t, c, fmt.Sprint(i), strings.Repeat("v", 700))
	}
	require.NoError(t, w.Close())
	files := segmentFiles(t, dir)
	require.Greater(t, len(files), 4)

	t.Run("a missing segment loses its records only", func(t *testing.T) {
		lost := rawKeys(t, files[2])
		require.NoError(t, os.Remove(files[2]))
		rec := newRecorder()
		w := open(t, testOptions(dir, rec))
		defer w.Close()
		got := contents(t, client(t, w, "q"))
		assert.Len(t, got, 30-len(lost))
		for _, k := range lost {
			assert.NotContains(t, got, k)
		}
		assert.Empty(t, rec.kinds(), "a missing file cannot be told from a removed one")
	})
	t.Run("an unreadable segment is renamed *.corrupt, left for an operator", func(t *testing.T) {
		lost := rawKeys(t, files[3])
		require.NoError(t, os.WriteFile(files[3], []byte("this is not a wal segment at all"), 0o600))
		rec := newRecorder()
		w := open(t, testOptions(dir, rec))
		got := contents(t, client(t, w, "q"))
		require.NoError(t, w.Close())
		for _, k := range lost {
			assert.NotContains(t, got, k)
		}
		assert.Equal(t, map[CorruptionKind]int{UnreadableSegment: 1}, rec.kinds())
		assert.FileExists(t, files[3]+quarantinedExt)
		assert.NoFileExists(t, files[3])
	})
}

// rawKeys are the keys set in a pristine segment file.
func rawKeys(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var keys []string
	for _, r := range rawRecords(t, data) {
		if r.flags&kindMask == kindSet {
			keys = append(keys, r.key)
		}
	}
	return keys
}

// batchesTouching are the puts of a queueLog whose records overlap
// [from, to).
func batchesTouching(t *testing.T, data []byte, from, to int) []int {
	recs := rawRecords(t, data)
	var out []int
	for i := 0; 2+2*i < len(recs); i++ {
		meta, item := recs[1+2*i], recs[2+2*i]
		if meta.off < to && item.off+item.size > from {
			out = append(out, i)
		}
	}
	return out
}

func flip(t *testing.T, path string, off int, mask byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[off] ^= mask
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func zero(t *testing.T, path string, off, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	clear(data[off:min(off+n, len(data))])
	require.NoError(t, os.WriteFile(path, data, 0o600))
}
