package wal

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMultiClientBatchIsAtomic: a batch with parts of two clients is
// applied whole, shares the group's write, and after a crash that cut it
// anywhere is replayed whole or not at all.
func TestMultiClientBatchIsAtomic(t *testing.T) {
	dir := t.TempDir()
	w := open(t, Options{Dir: dir, SegmentSize: 1 << 20, Fsync: FsyncNever})
	queue, journal := client(t, w, "exporter/otlp/traces"), client(t, w, "connector/slo/journal")
	set(t, queue, "meta", "w=0")
	groups0, _, _, _, _ := w.Counters()

	get := Op{Kind: OpGet, Key: "meta"}
	require.NoError(t, w.Batch(
		Part{Client: queue, Ops: []Op{get, {Kind: OpSet, Key: "meta", Value: []byte("w=1")}, {Kind: OpSet, Key: "0", Value: []byte(strings.Repeat("q", 600))}}},
		Part{Client: journal, Ops: []Op{{Kind: OpSet, Key: "j1", Value: []byte(strings.Repeat("j", 300))}}},
	))
	groups, _, _, _, _ := w.Counters()
	assert.Equal(t, int64(1), groups-groups0, "one write for both clients")
	assert.Equal(t, map[string]string{"meta": "w=1", "0": strings.Repeat("q", 600)}, contents(t, queue))
	assert.Equal(t, map[string]string{"j1": strings.Repeat("j", 300)}, contents(t, journal), "each client sees only its own part")
	require.NoError(t, w.Close())

	files := segmentFiles(t, dir)
	require.Len(t, files, 1)
	pristine, err := os.ReadFile(files[0])
	require.NoError(t, err)
	recs := rawRecords(t, pristine)
	last := recs[len(recs)-1]
	require.Equal(t, "j1", last.key, "the journal's record is the batch's last")
	require.Zero(t, last.flags&(flagFirst|flagMore), "it neither opens a batch nor announces more")
	first := recs[len(recs)-3]
	require.Equal(t, "meta", first.key)
	require.NotZero(t, first.flags&flagFirst, "the queue's first record opens the batch")
	for _, r := range recs[len(recs)-3 : len(recs)-1] {
		require.NotZero(t, r.flags&flagMore, "every record but the last says more follow")
	}

	// Cut the file at every byte inside the batch: nothing of it survives.
	for cut := first.off + 1; cut < last.off+last.size; cut += 37 {
		require.NoError(t, os.WriteFile(files[0], pristine[:cut], 0o600))
		w := open(t, testOptions(dir, nil))
		assert.Equal(t, map[string]string{"meta": "w=0"}, contents(t, client(t, w, "exporter/otlp/traces")), "cut at %d", cut)
		assert.Empty(t, contents(t, client(t, w, "connector/slo/journal")), "cut at %d", cut)
		require.NoError(t, w.Close())
	}
	require.NoError(t, os.WriteFile(files[0], pristine, 0o600))
	w = open(t, testOptions(dir, nil))
	defer w.Close()
	assert.Len(t, contents(t, client(t, w, "connector/slo/journal")), 1, "the whole batch replays")

	other := open(t, testOptions(t.TempDir(), nil))
	defer other.Close()
	err = w.Batch(Part{Client: client(t, w, "a"), Ops: []Op{{Kind: OpSet, Key: "k"}}},
		Part{Client: client(t, other, "b"), Ops: []Op{{Kind: OpSet, Key: "k"}}})
	assert.ErrorIs(t, err, ErrOtherLog)
}
