package alerting

import (
	"errors"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	// The delays failsafe-go schedules between 19 failed attempts, with
	// bounds small enough to wait them out (about a quarter of a second).
	const initial, max = time.Millisecond, 20 * time.Millisecond
	var delays []time.Duration
	policy := retryBackoff(initial, max).
		OnRetryScheduled(func(e failsafe.ExecutionScheduledEvent[any]) { delays = append(delays, e.Delay) }).
		Build()
	attempts := 0
	require.NoError(t, failsafe.With(policy).Run(func() error {
		if attempts++; attempts < 20 {
			return errors.New("endpoint down")
		}
		return nil
	}), "failures are retried without limit")
	require.Len(t, delays, 19)
	atMax := map[time.Duration]bool{}
	for i, d := range delays {
		n := i + 1
		want := initial << min(n-1, 5)
		if want > max {
			want = max
			atMax[d] = true
		}
		assert.GreaterOrEqual(t, d, want/2, "attempt %d", n)
		assert.LessOrEqual(t, d, want, "attempt %d", n)
	}
	assert.Greater(t, len(atMax), 1, "capped delays are jittered, not all equal")
}
