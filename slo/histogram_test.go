package slo

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type f64s []float64

func (s f64s) Len() int         { return len(s) }
func (s f64s) At(i int) float64 { return s[i] }

type u64s []uint64

func (s u64s) Len() int        { return len(s) }
func (s u64s) At(i int) uint64 { return s[i] }

func TestExplicitBad(t *testing.T) {
	bounds := f64s{0.1, 0.3, 1}
	counts := u64s{5, 4, 3, 2} // (-inf,0.1] (0.1,0.3] (0.3,1] (1,+inf)
	bad, ok := ExplicitBad(bounds, counts, 0.3)
	assert.True(t, ok)
	assert.Equal(t, uint64(5), bad, "observations above 0.3 are in the last two buckets")
	_, ok = ExplicitBad(bounds, counts, 0.25)
	assert.False(t, ok, "a threshold between boundaries is rejected")
	assert.EqualError(t, BoundaryError("a", bounds, 0.25),
		`slo "a": latency threshold 0.25 is not a bucket boundary of the histogram; boundaries are [0.1, 0.3, 1]`)
}

func TestExponentialBad(t *testing.T) {
	// scale 0: base 2, bucket i holds (2^i, 2^(i+1)].
	pos := u64s{1, 2, 4, 8} // offset 0: (1,2] (2,4] (4,8] (8,16]
	assert.Equal(t, uint64(12), ExponentialBad(0, 0, pos, 4), "a threshold on a boundary: (4,8] and (8,16] are bad")
	assert.Equal(t, uint64(14), ExponentialBad(0, 0, pos, 3), "the bucket holding the threshold counts as bad")
	assert.Equal(t, uint64(15), ExponentialBad(0, 0, pos, 0.5))
	assert.Equal(t, uint64(0), ExponentialBad(0, 0, pos, 16))
	assert.Equal(t, uint64(8), ExponentialBad(0, -1, pos, 4), "offset -1 shifts the buckets down")
	assert.Equal(t, uint64(0), ExponentialBad(0, 0, pos, 0), "a non-positive threshold is ignored")
}
