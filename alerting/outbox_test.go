package alerting

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func obAlert(slo string) Alert {
	return Alert{Labels: map[string]string{"slo": slo}, StartsAt: t0, EndsAt: t0.Add(time.Minute)}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ob, corrupt, err := openOutbox(dir, 100)
	require.NoError(t, err)
	require.Zero(t, corrupt)
	_, err = ob.push([]Alert{obAlert("a"), obAlert("b")})
	require.NoError(t, err)
	_, err = ob.push([]Alert{obAlert("c")})
	require.NoError(t, err)
	first, _ := ob.head()
	ob.remove(first.seq)

	reopened, corrupt, err := openOutbox(dir, 100)
	require.NoError(t, err)
	require.Zero(t, corrupt)
	assert.Equal(t, 1, reopened.depth())
	b, ok := reopened.head()
	require.True(t, ok)
	assert.Equal(t, "c", b.alerts[0].Labels["slo"])
	_, err = reopened.push([]Alert{obAlert("d")})
	require.NoError(t, err)
	b2, _ := reopened.head()
	assert.Equal(t, b.seq, b2.seq, "new batches queue behind the old ones")
	select {
	case <-reopened.ready:
	default:
		t.Fatal("a reopened outbox with batches signals its sender")
	}
}

func TestOutboxMovesCorruptFilesAside(t *testing.T) {
	dir := t.TempDir()
	ob, _, err := openOutbox(dir, 100)
	require.NoError(t, err)
	_, err = ob.push([]Alert{obAlert("good")})
	require.NoError(t, err)
	good, err := encodeBatch([]Alert{obAlert("x")})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, batchName(7)), good[:len(good)-3], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.batch"), good, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, tmpPrefix+"123"), []byte("half"), 0o600))

	reopened, corrupt, err := openOutbox(dir, 100)
	require.NoError(t, err)
	assert.Equal(t, 2, corrupt, "a truncated file and a badly named one")
	assert.Equal(t, 1, reopened.depth())
	moved, err := os.ReadDir(filepath.Join(dir, corruptSubdir))
	require.NoError(t, err)
	assert.Len(t, moved, 2)
	_, err = os.Stat(filepath.Join(dir, tmpPrefix+"123"))
	assert.True(t, os.IsNotExist(err), "an unfinished write is removed")
}

func TestOutboxDropsOldestBeyondLimit(t *testing.T) {
	ob, _, err := openOutbox(t.TempDir(), 3)
	require.NoError(t, err)
	for _, s := range []string{"a", "b", "c"} {
		dropped, err := ob.push([]Alert{obAlert(s)})
		require.NoError(t, err)
		require.Zero(t, dropped)
	}
	dropped, err := ob.push([]Alert{obAlert("d"), obAlert("e")})
	require.NoError(t, err)
	assert.Equal(t, 2, dropped)
	assert.Equal(t, 3, ob.depth())
	b, _ := ob.head()
	assert.Equal(t, "c", b.alerts[0].Labels["slo"])
}

func TestDecodeBatchRejectsDamage(t *testing.T) {
	good, err := encodeBatch([]Alert{obAlert("x")})
	require.NoError(t, err)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-5] ^= 0x20
	tests := []struct {
		name string
		data []byte
	}{
		{"an empty file", nil},
		{"a header without a newline", []byte(outboxMagic)},
		{"another format", []byte("something else 0 0\n[]")},
		{"a truncated body", good[:len(good)-1]},
		{"a flipped bit", flipped},
		{"an alert without labels", mustEncode(t, []Alert{{StartsAt: t0}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBatch(tt.data)
			assert.Error(t, err)
		})
	}
	alerts, err := decodeBatch(good)
	require.NoError(t, err)
	assert.Equal(t, []Alert{obAlert("x")}, alerts)
}

func mustEncode(t *testing.T, as []Alert) []byte {
	t.Helper()
	b, err := encodeBatch(as)
	require.NoError(t, err)
	return b
}

func FuzzDecodeBatch(f *testing.F) {
	good, _ := encodeBatch([]Alert{obAlert("x")})
	f.Add(good)
	f.Add([]byte(outboxMagic + " 00000000 2\n[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := decodeBatch(data)
		if err != nil {
			return
		}
		again, err := encodeBatch(alerts)
		if err != nil {
			t.Fatalf("a decoded batch must encode: %v", err)
		}
		if _, err := decodeBatch(again); err != nil {
			t.Fatalf("a re-encoded batch must decode: %v", err)
		}
	})
}
