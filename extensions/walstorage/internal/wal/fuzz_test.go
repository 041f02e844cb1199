package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzRecover writes a log from a script of batches (two clients, sets,
// overwrites and deletes, small segments so that files are sealed and
// removed), damages it once (a cut, a flipped bit, a zeroed block or a
// deleted file) and checks that Open succeeds and recovers exactly the
// batches the damage did not touch, applied in order; and that a second
// start finds nothing more to report.
func FuzzRecover(f *testing.F) {
	f.Add([]byte{0x01, 0x42, 0x83, 0x10, 0x22, 0x05, 0x96, 0x01}, uint8(0), uint32(300))
	f.Add([]byte{0x11, 0x12, 0x13, 0x14, 0x92, 0x06, 0x07, 0x21, 0x22}, uint8(1), uint32(1234))
	f.Add(bytes.Repeat([]byte{0x3d, 0x5e, 0x02, 0x81}, 30), uint8(2), uint32(9000))
	f.Add(bytes.Repeat([]byte{0x3d, 0x5e, 0x02, 0x81}, 30), uint8(3), uint32(1))
	f.Add([]byte{0xff, 0x00, 0x7f}, uint8(1), uint32(3))
	f.Fuzz(func(t *testing.T, script []byte, damage uint8, pos uint32) {
		if len(script) > 400 {
			script = script[:400]
		}
		dir := t.TempDir()
		opts := Options{Dir: dir, SegmentSize: 2048, Fsync: FsyncNever}
		w := open(t, opts)
		clients := [2]*Client{client(t, w, "a"), client(t, w, "b")}
		for _, b := range script {
			require.NoError(t, clients[b>>7].Batch(scriptBatch(b)))
		}
		require.NoError(t, w.Close())

		files := segmentFiles(t, dir)
		pristine := make([][]byte, len(files))
		for i, p := range files {
			var err error
			pristine[i], err = os.ReadFile(p)
			require.NoError(t, err)
		}
		hit := damageLog(t, files, pristine, damage, pos)
		expect := oracle(t, pristine, hit)

		w, err := Open(testOptions(dir, nil))
		require.NoError(t, err, "Open must always succeed")
		for _, name := range []string{"a", "b"} {
			assert.Equal(t, expect[name], contents(t, client(t, w, name)), "client %s", name)
		}
		require.NoError(t, w.Close())

		again := newRecorder()
		w = open(t, testOptions(dir, again))
		for _, name := range []string{"a", "b"} {
			assert.Equal(t, expect[name], contents(t, client(t, w, name)), "client %s after a second start", name)
		}
		require.NoError(t, w.Close())
		assert.Empty(t, again.kinds(), "the first start repaired everything it reported")
	})
}

// scriptBatch turns one script byte into a batch: bits 0-1 the kind, bits
// 2-4 the key, bits 5-6 the value's length class.
func scriptBatch(b byte) []Op {
	key := fmt.Sprint("k", (b>>2)&7)
	value := bytes.Repeat([]byte{'a' + b%26}, 1+int(b>>5&3)*150)
	switch b & 3 {
	case 0:
		return []Op{{Kind: OpSet, Key: key, Value: value}}
	case 1:
		return []Op{{Kind: OpDelete, Key: key}}
	case 2: // the queue's put: meta and an item
		return []Op{{Kind: OpSet, Key: "meta", Value: []byte{b}}, {Kind: OpSet, Key: key, Value: value}}
	default: // the queue's ack: meta and a delete
		return []Op{{Kind: OpSet, Key: "meta", Value: []byte{b}}, {Kind: OpDelete, Key: key}}
	}
}

// hit says which bytes of which file the damage touched: for each file, a
// function telling whether [from, to) was hit, and whether the whole file
// is gone.
type hit struct {
	file     int
	from, to int // damaged range in file (to = -1: to the end)
	gone     bool
}

func (h hit) touches(file, from, to int) bool {
	if file != h.file {
		return false
	}
	if h.gone {
		return true
	}
	end := h.to
	if end < 0 {
		end = 1 << 62
	}
	return from < end && to > h.from
}

// damageLog applies one damage chosen by kind and pos to the files.
func damageLog(t *testing.T, files []string, pristine [][]byte, kind uint8, pos uint32) hit {
	i := int(pos) % len(files)
	data := append([]byte(nil), pristine[i]...)
	p := int(pos/uint32(len(files))) % len(data)
	switch kind % 4 {
	case 0: // cut
		require.NoError(t, os.Truncate(files[i], int64(p)))
		return hit{file: i, from: p, to: -1}
	case 1: // flip a bit
		data[p] ^= 1 << (pos % 8)
		require.NoError(t, os.WriteFile(files[i], data, 0o600))
		return hit{file: i, from: p, to: p + 1}
	case 2: // zero a 512-byte block
		from := p &^ 511
		to := min(from+512, len(data))
		clear(data[from:to])
		require.NoError(t, os.WriteFile(files[i], data, 0o600))
		return hit{file: i, from: from, to: to}
	default: // lose the file
		require.NoError(t, os.Remove(files[i]))
		return hit{file: i, gone: true}
	}
}

// oracle replays the intact batches of the pristine files, in order, with
// a decoder of its own, and returns each named client's expected keys.
func oracle(t *testing.T, pristine [][]byte, h hit) map[string]map[string]string {
	names := map[uint32]string{}
	state := map[uint32]map[string]string{}
	for fi, data := range pristine {
		if h.touches(fi, 0, segmentHdrSize) { // the magic is gone: the file is set aside
			continue
		}
		type op struct {
			kind   byte
			client uint32
			key    string
			value  string
		}
		var batch []op
		start := 0
		for off := segmentHdrSize; off < len(data); {
			n := int(binary.LittleEndian.Uint32(data[off:]))
			body := data[off+12 : off+12+n]
			c, k1 := binary.Uvarint(body[1:])
			kl, k2 := binary.Uvarint(body[1+k1:])
			ks := 1 + k1 + k2
			if body[0]&flagFirst != 0 {
				batch, start = nil, off
			}
			batch = append(batch, op{body[0] & kindMask, uint32(c), string(body[ks : ks+int(kl)]), string(body[ks+int(kl):])})
			off += 12 + n
			if body[0]&flagMore != 0 || h.touches(fi, start, off) {
				continue
			}
			for _, o := range batch {
				if state[o.client] == nil {
					state[o.client] = map[string]string{}
				}
				switch o.kind {
				case kindClient:
					names[o.client] = o.key
				case kindSet:
					state[o.client][o.key] = o.value
				case kindDelete:
					delete(state[o.client], o.key)
				}
			}
		}
	}
	out := map[string]map[string]string{"a": {}, "b": {}}
	for id, name := range names {
		out[name] = state[id]
		if out[name] == nil {
			out[name] = map[string]string{}
		}
	}
	return out
}

// FuzzScan feeds arbitrary bytes to recovery as a segment: it must never
// panic or fail, and what it keeps must be whole records inside the file.
func FuzzScan(f *testing.F) {
	seed, _ := appendRecord([]byte(segmentMagic), kindSet|flagFirst, 1, "k", []byte("value"))
	f.Add(seed)
	f.Add([]byte(segmentMagic))
	f.Add(append([]byte(segmentMagic), make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := scan(append([]byte(segmentMagic), data...))
		prev := segmentHdrSize
		for _, b := range res.batches {
			require.GreaterOrEqual(t, b.start, prev)
			require.LessOrEqual(t, b.end, len(data)+segmentHdrSize)
			prev = b.end
		}
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), append([]byte(segmentMagic), data...), 0o600))
		w, err := Open(testOptions(dir, nil))
		require.NoError(t, err)
		require.NoError(t, w.Close())
	})
}
