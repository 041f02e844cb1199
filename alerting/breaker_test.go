package alerting

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

func TestBreakerStates(t *testing.T) {
	const openFor = 50 * time.Millisecond
	var mu sync.Mutex
	var changes []string
	b := newBreaker(BreakerConfig{FailureThreshold: 2, OpenDuration: openFor, SuccessThreshold: 2},
		func(from, to breakerstate.State) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, from.String()+"→"+to.String())
		})

	assert.True(t, b.allow())
	b.record(false)
	assert.Equal(t, breakerstate.Closed, b.State(), "one failure is below the threshold")
	assert.True(t, b.allow())
	b.record(false)
	assert.Equal(t, breakerstate.Open, b.State())
	assert.False(t, b.allow(), "an open breaker refuses")

	time.Sleep(openFor + 20*time.Millisecond)
	assert.True(t, b.allow(), "after the open duration a probe is let through")
	assert.Equal(t, breakerstate.HalfOpen, b.State())
	b.record(false)
	assert.Equal(t, breakerstate.Open, b.State(), "a failed probe reopens")

	time.Sleep(openFor + 20*time.Millisecond)
	assert.True(t, b.allow())
	b.record(true)
	assert.Equal(t, breakerstate.HalfOpen, b.State(), "one success is below the success threshold")
	assert.True(t, b.allow())
	b.record(true)
	assert.Equal(t, breakerstate.Closed, b.State())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"closed→open", "open→half_open", "half_open→open", "open→half_open", "half_open→closed"}, changes)
}
