package slo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Float64s is a read-only float64 sequence (pcommon.Float64Slice fits).
type Float64s interface {
	Len() int
	At(i int) float64
}

// Uint64s is a read-only uint64 sequence (pcommon.UInt64Slice fits).
type Uint64s interface {
	Len() int
	At(i int) uint64
}

// ExplicitBad returns how many observations of an explicit-bucket
// histogram lie above threshold. Bucket i holds (bounds[i-1], bounds[i]];
// ok is false when threshold is not one of the bounds (use BoundaryError).
// It does not allocate.
func ExplicitBad[F Float64s, U Uint64s](bounds F, counts U, threshold float64) (bad uint64, ok bool) {
	i := 0
	for ; i < bounds.Len(); i++ {
		if bounds.At(i) == threshold {
			break
		}
	}
	if i == bounds.Len() {
		return 0, false
	}
	for j := i + 1; j < counts.Len(); j++ {
		bad += counts.At(j)
	}
	return bad, true
}

// BoundaryError is the error for a latency threshold that is not a bucket
// boundary; it lists the boundaries.
func BoundaryError[F Float64s](slo string, bounds F, threshold float64) error {
	b := make([]string, bounds.Len())
	for i := range b {
		b[i] = strconv.FormatFloat(bounds.At(i), 'g', -1, 64)
	}
	return fmt.Errorf("slo %q: latency threshold %v is not a bucket boundary of the histogram; boundaries are [%s]",
		slo, threshold, strings.Join(b, ", "))
}

// ExponentialBad returns how many observations of an exponential
// histogram's positive buckets lie above threshold (> 0). Bucket index i
// holds (base^i, base^(i+1)] with base = 2^(2^-scale). The bucket that
// contains threshold strictly inside counts as bad (conservative: the
// error is at most that one bucket, relative width base-1). Zero and
// negative observations are good.
func ExponentialBad[U Uint64s](scale, offset int32, positive U, threshold float64) uint64 {
	if !(threshold > 0) {
		return 0
	}
	// Index of the bucket whose upper bound is the first >= threshold.
	f := math.Log2(threshold) * math.Exp2(float64(scale))
	up := math.Ceil(f)
	idx := int64(up) - 1
	if up != f {
		idx-- // threshold lies strictly inside bucket idx+1: count that one as bad too
	}
	var bad uint64
	for j := 0; j < positive.Len(); j++ {
		if int64(offset)+int64(j) > idx {
			bad += positive.At(j)
		}
	}
	return bad
}
