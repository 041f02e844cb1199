package wal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTailCache(t *testing.T) {
	var c tailCache
	a, b := &segment{id: 1}, &segment{id: 2}
	buf := func(fill byte) []byte {
		out := make([]byte, 1<<20)
		for i := range out {
			out[i] = fill
		}
		return out
	}
	assert.Empty(t, c.add(a, 100, buf('a')))
	assert.Empty(t, c.add(b, 0, buf('b')))
	got, ok := c.get(a, 100+10, 5)
	require.True(t, ok)
	assert.Equal(t, "aaaaa", string(got))
	_, ok = c.get(a, 99, 5)
	assert.False(t, ok, "before the cached range")
	_, ok = c.get(a, 100+1<<20-2, 5)
	assert.False(t, ok, "past the cached range")
	_, ok = c.get(b, 100+10, 5)
	require.True(t, ok, "another segment, another range")

	assert.Empty(t, c.add(b, 1<<20, buf('c')))
	assert.Empty(t, c.add(b, 2<<20, buf('d')))
	evicted := c.add(b, 3<<20, buf('e'))
	require.Len(t, evicted, 1, "4 MiB kept: the oldest went")
	assert.Equal(t, byte('a'), evicted[0][0])
	_, ok = c.get(a, 110, 5)
	assert.False(t, ok)
	got, ok = c.get(b, 3<<20+7, 3)
	require.True(t, ok)
	assert.Equal(t, "eee", string(got))
	assert.Len(t, c.add(b, 4<<20, make([]byte, 0, 5<<20)), 1, "a buffer larger than the cache is not kept")
}
